package container_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/fixtures"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/runner/container"
	"github.com/adapterconformance/adapter-conformance/runner/executable"
)

func fixtureAdapter(parts ...string) string {
	return filepath.Join(append([]string{"..", "..", "fixtures", "adapters"}, parts...)...)
}

// holdSweeps keeps every other process's sweep off until the test ends
// (container.HoldSweeps): go test runs the suite's and the CLI's container
// runs beside this package, each sweeping as it starts, and a test that
// stages a dead owner's leftovers must see them still there, and sweep
// them itself. Without it, a concurrent sweep removed a stand-in image
// mid-build (the classic builder commits the labels one image at a time,
// the first already naming the dead owner), or listed a tagged one between
// its commit and its tag and removed it after.
func holdSweeps(ctx context.Context, t *testing.T) {
	t.Helper()
	release, err := container.HoldSweeps(ctx)
	if err != nil {
		t.Fatalf("HoldSweeps: %v", err)
	}
	t.Cleanup(release)
}

// buildDeadOwnerStandIn builds a one-file image FROM scratch with these
// labels and tags, a stand-in for what a kit run builds whose owner labels
// name a dead process (or one built beside such an image); the test holds
// the sweep lock (holdSweeps), so no other process removes it. labels must
// hold a LabelBuildOwner of its own: the image is found by it
// (intermediate images included). The image is removed when the test ends.
func buildDeadOwnerStandIn(ctx context.Context, t *testing.T, cli client.APIClient, body string, labels map[string]string, tags ...string) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, body := range map[string]string{"Dockerfile": "FROM scratch\nCOPY f /f\n", "f": body} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body))})
		tw.Write([]byte(body))
	}
	tw.Close()
	resp, err := cli.ImageBuild(ctx, &buf, client.ImageBuildOptions{Remove: true, ForceRemove: true, Tags: tags, Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	// The build's stream ends with the built image's ID (its "aux"
	// message), or says what went wrong; the image also carries the
	// labels, which the list checks.
	var id, buildErr string
	dec := json.NewDecoder(resp.Body)
	for {
		var msg struct {
			Aux   struct{ ID string } `json:"aux"`
			Error string              `json:"error"`
		}
		if dec.Decode(&msg) != nil {
			break
		}
		if msg.Aux.ID != "" {
			id = msg.Aux.ID
		}
		if msg.Error != "" {
			buildErr = msg.Error
		}
	}
	resp.Body.Close()
	owner := labels[container.LabelBuildOwner]
	list, err := cli.ImageList(ctx, client.ImageListOptions{All: true, Filters: make(client.Filters).Add("label", container.LabelBuildOwner+"="+owner)})
	if id != "" {
		t.Cleanup(func() {
			cli.ImageRemove(context.Background(), id, client.ImageRemoveOptions{Force: true, PruneChildren: true})
		})
	}
	if err != nil || len(list.Items) == 0 || id == "" {
		t.Fatalf("the stand-in image was not built (image %q, build error %q): %v", id, buildErr, err)
	}
	return id
}

// dockerClient skips the test when no engine answers, and otherwise gives
// a client of the engine the kit uses.
func dockerClient(t *testing.T) client.APIClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Configured before this test's own first testcontainers call (Ryuk
	// off, its logging kept from the test's output).
	container.ConfigureTestcontainers()
	if err := container.DockerAvailable(ctx); err != nil {
		t.Skipf("container targets need Docker: %v", err)
	}
	p, err := testcontainers.NewDockerProvider()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p.Client()
}

// managedBy lists the containers the kit labelled as made by process pid.
func managedBy(t *testing.T, cli client.APIClient, pid int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	f := make(client.Filters).Add("label", container.LabelManaged+"=true", container.LabelOwnerPID+"="+strconv.Itoa(pid))
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		t.Fatalf("listing containers: %v", err)
	}
	var ids []string
	for _, c := range list.Items {
		ids = append(ids, c.ID[:12]+" "+c.Image+" "+string(c.State))
	}
	return ids
}

type imager interface {
	Image(ctx context.Context) (string, error)
}

// containerTarget makes a container target that is closed after the test,
// and checks then that its image and every container of this process are gone.
// It builds without the image cache (cache_test.go tests that), so that
// the test leaves no image behind.
func containerTarget(t *testing.T, cli client.APIClient, dir string, opts ...runner.Option) runner.Target {
	t.Helper()
	target := container.Container(dir, append([]runner.Option{runner.WithoutImageCache()}, opts...)...)
	if target.Mode() != runner.ModeContainer {
		t.Fatalf("Mode() = %q", target.Mode())
	}
	var image string
	t.Cleanup(func() {
		if err := target.(io.Closer).Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if image != "" {
			if _, err := cli.ImageInspect(context.Background(), image); !cerrdefs.IsNotFound(err) {
				t.Errorf("image %s is still there after Close (inspect error: %v)", image, err)
			}
		}
		if left := managedBy(t, cli, os.Getpid()); len(left) > 0 {
			t.Errorf("containers left behind: %v", left)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var err error
	began := time.Now()
	if image, err = target.(imager).Image(ctx); err != nil {
		t.Fatalf("building the image: %v", err)
	}
	t.Logf("image %s built in %s", image, time.Since(began).Round(time.Millisecond))
	if !strings.HasPrefix(image, "adapter-conformance/") {
		t.Errorf("image %q is not tagged adapter-conformance/...", image)
	}
	return target
}

func loadBasic(t testing.TB) *app.Manifest {
	t.Helper()
	m, err := fixtures.Load("basic")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func startTarget(t *testing.T, target runner.Target) *runner.Instance {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	began := time.Now()
	in, err := target.Start(ctx, loadBasic(t))
	t.Logf("Start took %s", time.Since(began).Round(time.Millisecond))
	// Registered after the target's cleanup, so it runs before it.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		began := time.Now()
		if err := in.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
		t.Logf("Stop took %s", time.Since(began).Round(time.Millisecond))
	})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if in.Mode != runner.ModeContainer {
		t.Errorf("instance mode %q", in.Mode)
	}
	return in
}

func TestContainerGoodStandalone(t *testing.T) {
	cli := dockerClient(t)
	grace := 10 * time.Second
	target := containerTarget(t, cli, fixtureAdapter("good", "standalone"), runner.WithGracePeriod(grace))
	if target.Name() != "standalone" {
		t.Errorf("Name() = %q", target.Name())
	}
	in := startTarget(t, target)

	if in.DescribeError != nil {
		t.Fatalf("describe: %v", in.DescribeError)
	}
	if in.Description == nil || len(in.Description.Calls) != 1 || in.Description.Calls[0].Name != "good-standalone" {
		t.Fatalf("description %+v, want one SetAdapter call named good-standalone", in.Description)
	}
	if a, ok := in.Declaration.Adapter(); !ok || a.Name != "good-standalone" || !in.Declaration.HookRan {
		t.Errorf("declaration %+v", in.Declaration)
	}

	h := in.Host(app.ShapeStart)
	if h == nil {
		t.Fatalf("no start host: %+v", in.Hosts)
	}
	if h.StartError != nil {
		t.Fatalf("StartError: %v", h.StartError)
	}
	if h.Export != "container" {
		t.Errorf("Export = %q", h.Export)
	}
	t.Logf("host URL %s", h.URL)
	resp, err := http.Get(h.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Home") {
		t.Errorf("GET / = %d %.300q, want 200 with the Home page", resp.StatusCode, body)
	}
	if st := h.ExitStatus(); st != "" {
		t.Errorf("ExitStatus while running = %q", st)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*grace)
	defer cancel()
	began := time.Now()
	if err := h.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	t.Logf("Shutdown took %s", time.Since(began).Round(time.Millisecond))
	if d := time.Since(began); d > grace {
		t.Errorf("Shutdown took %s, more than the %s grace period", d, grace)
	}
	if st := h.ExitStatus(); st != "exited with status 0" {
		t.Errorf("ExitStatus after shutdown = %q", st)
	}
	if logs := h.Logs(); !strings.Contains(logs, "listening on") {
		t.Errorf("logs %q lack the adapter's start line", logs)
	}
	if err := in.Stop(ctx); err != nil {
		t.Errorf("Stop: %v", err)
	}
	// The logs outlive the container.
	if logs := h.Logs(); !strings.Contains(logs, "listening on") {
		t.Errorf("logs after Stop = %q", logs)
	}

	// The image the kit built, given by name, is a target too; the kit
	// does not own it, so closing that target leaves it.
	image, err := target.(imager).Image(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byName := container.Container(image, runner.WithGracePeriod(grace))
	if byName.Name() != image {
		t.Errorf("Name() = %q, want the image name", byName.Name())
	}
	in2 := startTarget(t, byName)
	if in2.Description == nil || in2.Description.Calls[0].Name != "good-standalone" {
		t.Errorf("describe by image name: %+v, %v", in2.Description, in2.DescribeError)
	}
	h2 := in2.Host(app.ShapeStart)
	if h2 == nil || h2.StartError != nil {
		t.Fatalf("host of the image target: %+v", h2)
	}
	if resp, err := http.Get(h2.URL + "/"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("GET / of the image target: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if err := in2.Stop(ctx); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if err := byName.(io.Closer).Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := cli.ImageInspect(ctx, image); err != nil {
		t.Errorf("closing the image-name target removed the image: %v", err)
	}
}

func TestContainerNeverReady(t *testing.T) {
	cli := dockerClient(t)
	readiness := 3 * time.Second
	target := containerTarget(t, cli, fixtureAdapter("broken"), runner.WithName("process-never-ready"),
		runner.WithEnv("BROKEN_ADAPTER=process-never-ready"), runner.WithReadinessTimeout(readiness), runner.WithGracePeriod(2*time.Second))
	began := time.Now()
	in := startTarget(t, target)
	if d := time.Since(began); d > readiness+20*time.Second {
		t.Errorf("Start took %s with a %s readiness timeout", d, readiness)
	}
	// It declares itself like the good standalone adapter.
	if in.DescribeError != nil || in.Description == nil {
		t.Errorf("describe: %v", in.DescribeError)
	}
	h := in.Host(app.ShapeStart)
	if h == nil {
		t.Fatal("no start host kept for a start that never became ready")
	}
	if h.StartError == nil {
		t.Fatal("StartError is nil for an adapter that never listens")
	}
	t.Logf("StartError: %v", h.StartError)
	if msg := h.StartError.Error(); !strings.Contains(msg, "within "+readiness.String()) || !strings.Contains(msg, "running") {
		t.Errorf("StartError %q does not say what happened", msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := in.Stop(ctx); err != nil {
		t.Errorf("Stop: %v", err)
	}

	// An adapter that exits at once fails fast, with its status and output;
	// the same image, by name, with a BROKEN_ADAPTER it does not know.
	image, err := target.(imager).Image(ctx)
	if err != nil {
		t.Fatal(err)
	}
	began = time.Now()
	crash := startTarget(t, container.Container(image, runner.WithEnv("BROKEN_ADAPTER=no-such-bug"), runner.WithReadinessTimeout(time.Minute)))
	if d := time.Since(began); d > 30*time.Second {
		t.Errorf("a crashing adapter took %s to fail its start", d)
	}
	h = crash.Host(app.ShapeStart)
	if h == nil || h.StartError == nil {
		t.Fatalf("host %+v, want a StartError", h)
	}
	t.Logf("StartError: %v", h.StartError)
	if msg := h.StartError.Error(); !strings.Contains(msg, "exited with status 2") || !strings.Contains(msg, "names no broken adapter") {
		t.Errorf("StartError %q lacks the exit status or the output", msg)
	}
	if st := h.ExitStatus(); st != "exited with status 2" {
		t.Errorf("ExitStatus = %q", st)
	}
	if err := h.Shutdown(ctx); err == nil || !strings.Contains(err.Error(), "already exited") {
		t.Errorf("Shutdown of an exited container = %v", err)
	}
}

func TestContainerIgnoresSIGTERM(t *testing.T) {
	cli := dockerClient(t)
	grace := time.Second
	target := containerTarget(t, cli, fixtureAdapter("broken"), runner.WithName("process-ignores-sigterm"),
		runner.WithEnv("BROKEN_ADAPTER=process-ignores-sigterm"), runner.WithGracePeriod(grace))
	in := startTarget(t, target)
	h := in.Host(app.ShapeStart)
	if h == nil || h.StartError != nil {
		t.Fatalf("start host %+v", h)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if h.Signalled == nil {
		t.Fatal("a container's start host says nothing of when SIGTERM was delivered (Host.Signalled)")
	}
	select {
	case <-h.Signalled:
		t.Error("Signalled before Shutdown")
	default:
	}
	began := time.Now()
	err := h.Shutdown(ctx)
	t.Logf("Shutdown took %s: %v", time.Since(began).Round(time.Millisecond), err)
	select {
	case <-h.Signalled:
	default:
		t.Error("Signalled not closed once Shutdown had sent SIGTERM")
	}
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Shutdown = %v, want an error saying the container was killed", err)
	}
	if d := time.Since(began); d > grace+10*time.Second {
		t.Errorf("Shutdown took %s with a %s grace period", d, grace)
	}
	if st := h.ExitStatus(); st != "exited with status 137 (128+9: killed by SIGKILL)" {
		t.Errorf("ExitStatus = %q", st)
	}
}

func TestContainerUnknownTarget(t *testing.T) {
	container.ConfigureTestcontainers()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := "adapter-conformance-no-such-image-" + strconv.Itoa(os.Getpid()) + ":latest"
	target := container.Container(name)
	if target.Name() != name {
		t.Errorf("Name() = %q", target.Name())
	}
	in, err := target.Start(ctx, loadBasic(t))
	defer in.Stop(ctx)
	var be *executable.BuildError
	if !errors.As(err, &be) {
		t.Fatalf("Start = %v, want a *BuildError", err)
	}
	if container.DockerAvailable(ctx) != nil {
		if !errors.Is(err, container.ErrNoDocker) {
			t.Errorf("without Docker, Start = %v, want ErrNoDocker", err)
		}
		return
	}
	if !strings.Contains(err.Error(), "neither a directory holding a Dockerfile nor an image in the local Docker engine") {
		t.Errorf("Start = %v", err)
	}
	if in == nil || len(in.Hosts) != 0 {
		t.Errorf("instance %+v", in)
	}
}

// TestContainerDirWithoutDockerfile: a Go package directory with no
// Dockerfile is refused before anything is built.
func TestContainerDirWithoutDockerfile(t *testing.T) {
	dockerClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := container.Container(fixtureAdapter("good", "standalone", "cmd")).Start(ctx, loadBasic(t))
	if err == nil || !strings.Contains(err.Error(), "has no Dockerfile") {
		t.Errorf("Start = %v", err)
	}
}

// deadPID returns the pid of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Skipf("pid %d was reused at once (%v)", pid, err)
	}
	return pid
}

func TestSweepContainers(t *testing.T) {
	cli := dockerClient(t)
	target := containerTarget(t, cli, fixtureAdapter("good", "standalone"), runner.WithName("sweep"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	image, err := target.(imager).Image(ctx)
	if err != nil {
		t.Fatal(err)
	}
	holdSweeps(ctx, t)
	appDir := filepath.Join(t.TempDir(), "app")
	if err := app.WriteManifest(loadBasic(t), appDir); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	run := func(pid int) string {
		ctr, err := testcontainers.Run(ctx, image,
			testcontainers.WithEnv(map[string]string{"ADAPTER_CONFORMANCE_APP": "/app", "HOST": "0.0.0.0", "PORT": "8080"}),
			testcontainers.WithFiles(testcontainers.ContainerFile{HostFilePath: appDir, ContainerFilePath: "/app", FileMode: 0o755}),
			testcontainers.WithLabels(map[string]string{
				container.LabelManaged: "true", container.LabelOwnerPID: strconv.Itoa(pid), container.LabelOwnerHost: host,
			}),
		)
		if ctr != nil {
			t.Cleanup(func() { testcontainers.TerminateContainer(ctr, testcontainers.StopTimeout(0)) })
		}
		if err != nil {
			t.Fatal(err)
		}
		if !ctr.IsRunning() {
			t.Fatal("the stand-in container is not running")
		}
		return ctr.GetContainerID()
	}
	mine := run(os.Getpid())
	orphan := run(deadPID(t))
	removed, err := container.SweepContainers(ctx)
	if err != nil {
		t.Errorf("SweepContainers: %v", err)
	}
	if removed < 1 {
		t.Errorf("SweepContainers removed %d containers, want the orphan", removed)
	}
	if _, err := cli.ContainerInspect(ctx, orphan, client.ContainerInspectOptions{}); !cerrdefs.IsNotFound(err) {
		t.Errorf("the orphaned container is still there after the sweep (inspect error: %v)", err)
	}
	if _, err := cli.ContainerInspect(ctx, mine, client.ContainerInspectOptions{}); err != nil {
		t.Errorf("the container of this live process was swept too: %v", err)
	}
}

// The testcontainers lines (🐳 Creating container ...) must not reach the
// user's terminal: a child test process starts and stops a container target
// with -test.v, and its whole output is checked.
func TestContainerKeepsTestcontainersQuiet(t *testing.T) {
	cli := dockerClient(t)
	if os.Getenv("ADAPTER_CONFORMANCE_CHILD") != "" {
		t.Skip("in the child")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestContainerChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "ADAPTER_CONFORMANCE_CHILD=start")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestContainerChild") {
		t.Fatalf("the child did not run:\n%s", out)
	}
	for _, noise := range []string{"🐳", "⏳", "✅", "🔔", "Creating container", "Testcontainers"} {
		if strings.Contains(string(out), noise) {
			t.Errorf("testcontainers wrote %q to the child's output:\n%s", noise, out)
		}
	}
	if left := managedBy(t, cli, cmd.Process.Pid); len(left) > 0 {
		t.Errorf("the child left containers behind: %v", left)
	}
}

// Without an engine, Start says so with ErrNoDocker. testcontainers finds
// /var/run/docker.sock whatever DOCKER_HOST says, so the child names a
// runtime provider that does not exist, which fails the same way.
func TestContainerWithoutDocker(t *testing.T) {
	if os.Getenv("ADAPTER_CONFORMANCE_CHILD") != "" {
		t.Skip("in the child")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestContainerChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "ADAPTER_CONFORMANCE_CHILD=nodocker", "TESTCONTAINERS_PROVIDER=no-such-runtime")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestContainerChild") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// TestContainerLibraryLeavesProcessStateAlone: using container targets
// without calling ConfigureTestcontainers leaves the process's environment
// and testcontainers' default logger as they were (no library code changes
// process-wide state unasked), and says what to do when Ryuk is left on;
// ConfigureTestcontainers then sets both. A child process, so that
// testcontainers has read nothing yet and no other test configured it.
func TestContainerLibraryLeavesProcessStateAlone(t *testing.T) {
	if os.Getenv("ADAPTER_CONFORMANCE_CHILD") != "" {
		t.Skip("in the child")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestContainerChild$", "-test.v", "-test.count=1")
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "TESTCONTAINERS_RYUK_DISABLED=")
	}), "ADAPTER_CONFORMANCE_CHILD=unconfigured")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestContainerChild") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func TestContainerChild(t *testing.T) {
	mode := os.Getenv("ADAPTER_CONFORMANCE_CHILD")
	switch mode {
	case "":
		t.Skip("run by TestContainerKeepsTestcontainersQuiet and TestContainerWithoutDocker")
	case "nodocker":
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := container.DockerAvailable(ctx)
		if !errors.Is(err, container.ErrNoDocker) {
			t.Fatalf("DockerAvailable = %v, want ErrNoDocker", err)
		}
		in, err := container.Container(fixtureAdapter("good", "standalone")).Start(ctx, loadBasic(t))
		var be *executable.BuildError
		if !errors.Is(err, container.ErrNoDocker) || !errors.As(err, &be) {
			t.Fatalf("Start = %v, want a BuildError wrapping ErrNoDocker", err)
		}
		if err := in.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
		if _, err := container.SweepContainers(ctx); !errors.Is(err, container.ErrNoDocker) {
			t.Errorf("SweepContainers = %v, want ErrNoDocker", err)
		}
	case "unconfigured":
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		logger := tclog.Default()
		err := container.DockerAvailable(ctx)
		if v, set := os.LookupEnv("TESTCONTAINERS_RYUK_DISABLED"); set {
			t.Errorf("DockerAvailable set TESTCONTAINERS_RYUK_DISABLED=%q in the process environment", v)
		}
		if tclog.Default() != logger {
			t.Error("DockerAvailable replaced testcontainers' default logger")
		}
		if err != nil && !errors.Is(err, container.ErrNoDocker) && !strings.Contains(err.Error(), "container.ConfigureTestcontainers") {
			t.Errorf("with Ryuk on, DockerAvailable = %v, want an error naming container.ConfigureTestcontainers", err)
		}
		container.ConfigureTestcontainers()
		if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") != "true" || tclog.Default() == logger {
			t.Error("ConfigureTestcontainers did not disable Ryuk and take over testcontainers' logging")
		}
	case "start":
		cli := dockerClient(t)
		target := containerTarget(t, cli, fixtureAdapter("good", "standalone"), runner.WithName("quiet"))
		in := startTarget(t, target)
		if h := in.Host(app.ShapeStart); h == nil || h.StartError != nil {
			t.Fatalf("host %+v", h)
		}
	}
}

// TestSweepFindsAnInterruptedBuildsImages: Docker's classic builder commits
// build labels one image at a time, in key order, so an interrupted build
// leaves an image with only the first of them. The build-owner label sorts
// first: an image carrying just it (and managed) is swept once its owner is
// dead, and one owned by this live process is kept.
func TestSweepFindsAnInterruptedBuildsImages(t *testing.T) {
	cli := dockerClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	holdSweeps(ctx, t)
	host, _ := os.Hostname()
	// Just the labels the first label step of an interrupted build
	// commits: no owner-pid, no owner-host.
	labels := func(owner string) map[string]string {
		return map[string]string{container.LabelBuildOwner: owner, container.LabelManaged: "true"}
	}
	orphan := buildDeadOwnerStandIn(ctx, t, cli, "partial build\n", labels(host+"/"+strconv.Itoa(deadPID(t))+"/interrupted"))
	// Its own content, so that it shares no layer with the orphan.
	mine := buildDeadOwnerStandIn(ctx, t, cli, "live build\n", labels(host+"/"+strconv.Itoa(os.Getpid())+"/live"))
	if _, err := container.SweepContainers(ctx); err != nil {
		t.Errorf("SweepContainers: %v", err)
	}
	if _, err := cli.ImageInspect(ctx, orphan); !cerrdefs.IsNotFound(err) {
		t.Errorf("the interrupted build's image is still there (inspect error: %v)", err)
	}
	if _, err := cli.ImageInspect(ctx, mine); err != nil {
		t.Errorf("the image of this live process was swept too: %v", err)
	}
}
