package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	mobycontainer "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/adapterconformance/adapter-conformance/fixtures"
	"github.com/adapterconformance/adapter-conformance/reports"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/runner/container"
)

// labelKitImageTest is on the image and the container TestKitImage makes,
// so that what it leaves behind (it removes both itself) can be found.
const labelKitImageTest = "adapter-conformance.test"

// serveGoodStandalone runs the good standalone adapter as its own process
// (the built standalone-adapter program, under the process contract) on a
// loopback port, serving the basic fixture, and returns its URL. A separate
// process, not a server in the test process: it stands in for a deployment
// as a user has one.
func serveGoodStandalone(t *testing.T, ctx context.Context, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "good-standalone")
	if out, err := exec.Command("go", "build", "-o", bin, "../../fixtures/adapters/good/standalone/cmd/standalone-adapter").CombinedOutput(); err != nil {
		t.Fatalf("building the good standalone adapter: %v\n%s", err, out)
	}
	appDir := filepath.Join(dir, "app")
	if err := fixtures.Export("basic", appDir); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close() // the adapter listens on it itself
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "ADAPTER_CONFORMANCE_APP="+appDir, "HOST=127.0.0.1", "PORT="+port)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("the good standalone adapter did not stop cleanly: %v\n%s", err, logs.String())
		}
	})
	url := "http://127.0.0.1:" + port
	if err := runner.Probe(ctx, url); err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	return url
}

// TestKitImage builds the kit's image from the repository's Dockerfile (a
// CGO_ENABLED=0 build of this command copied into an image FROM scratch,
// no registry involved) and runs it, as README shows, against a URL target:
// the good standalone adapter, served by its own process on the host's
// loopback, reached through --network host. The run must pass, and the
// reports it writes into the mounted working directory must say so. Image
// and container carry labelKitImageTest and are removed at the end.
func TestKitImage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := container.DockerAvailable(ctx); err != nil {
		t.Skipf("no container engine, the kit's image is not built or run: %v", err)
	}
	dir := t.TempDir()
	target := serveGoodStandalone(t, ctx, dir)

	buildCtx := filepath.Join(dir, "image")
	if err := os.Mkdir(buildCtx, 0o755); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", filepath.Join(buildCtx, "adapter-conformance"), ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the kit: %v\n%s", err, out)
	}
	for _, f := range []string{"Dockerfile", ".dockerignore"} {
		data, err := os.ReadFile(filepath.Join("..", "..", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(buildCtx, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o777); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{labelKitImageTest: t.Name()}
	var buildLog bytes.Buffer
	c, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{Started: true, ContainerRequest: testcontainers.ContainerRequest{
		FromDockerfile: testcontainers.FromDockerfile{
			Context: buildCtx, Dockerfile: "Dockerfile",
			Repo: "adapter-conformance-kit-test", Tag: strconv.FormatInt(time.Now().UnixNano(), 36),
			BuildLogWriter: &buildLog,
			// Removed with the container, when it is terminated.
			KeepImage:            false,
			BuildOptionsModifier: func(o *client.ImageBuildOptions) { o.Labels = labels },
		},
		Labels: labels,
		Cmd:    []string{"run", "--target", target},
		ConfigModifier: func(c *mobycontainer.Config) {
			// The reports belong to whoever runs the test, not to root.
			c.User = fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid())
		},
		HostConfigModifier: func(h *mobycontainer.HostConfig) {
			h.NetworkMode = "host"
			h.Binds = []string{work + ":/work"}
		},
		WaitingFor: wait.ForExit().WithExitTimeout(5 * time.Minute),
	}})
	if c != nil {
		defer func() {
			if err := testcontainers.TerminateContainer(c); err != nil {
				t.Errorf("removing the kit's container and image: %v", err)
			}
		}()
	}
	if err != nil {
		t.Fatalf("building or running the kit's image: %v\n%s", err, buildLog.String())
	}
	state, err := c.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var output []byte
	if logs, err := c.Logs(ctx); err == nil {
		output, _ = io.ReadAll(logs)
		logs.Close()
	}
	if state.ExitCode != exitPass {
		t.Fatalf("the kit's image exited %d against a good adapter, want %d:\n%s", state.ExitCode, exitPass, output)
	}

	reportDir := filepath.Join(work, "adapter-conformance-report")
	for _, f := range []string{reports.JSONFile, reports.JUnitFile, reports.HTMLFile, reports.MarkdownFile} {
		if fi, err := os.Stat(filepath.Join(reportDir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("the image's run left no %s in the mounted working directory: %v", f, err)
		}
	}
	r, err := reports.Read(filepath.Join(reportDir, reports.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Verdict != reports.VerdictPass || r.Summary.Failed != 0 || r.Summary.Passed == 0 || r.Target.Mode != string(runner.ModeURL) || r.Target.Name != target {
		t.Errorf("report.json of the image's run: verdict %s, %d passed, %d failed, target %s (%s); want a pass of url target %s",
			r.Summary.Verdict, r.Summary.Passed, r.Summary.Failed, r.Target.Name, r.Target.Mode, target)
	}
	t.Logf("the kit's image against %s: %s, %d requirements passed", target, r.Summary.Verdict, r.Summary.Passed)
}
