package runner

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner/contract"
	"github.com/adapterconformance/adapter-conformance/runner/executable"
	"github.com/adapterconformance/adapter-conformance/runner/ownership"
)

// bindHost is the HOST the kit gives a binary target: a loopback address
// other than 127.0.0.1, so that an adapter that ignores HOST and binds a
// hard-coded localhost is not reachable (START-6, B53).
const bindHost = "127.0.0.2"

// Binary is a target that runs as its own process under the process
// contract (runner/contract): an executable, or a directory holding a Go
// main package (or exactly one main package under cmd/), which the kit builds.
func Binary(path string, opts ...Option) Target {
	t := &binaryTarget{path: path, settings: defaultSettings()}
	for _, o := range opts {
		o(&t.settings)
	}
	t.name = t.settings.name
	if t.name == "" {
		t.name = filepath.Base(filepath.Clean(path))
	}
	return t
}

type binaryTarget struct {
	name string
	path string
	settings

	buildOnce sync.Once
	bin       string
	buildDir  string
	buildErr  error
}

func (t *binaryTarget) Name() string { return t.name }
func (t *binaryTarget) Mode() Mode   { return ModeBinary }

// Close removes what the kit built.
func (t *binaryTarget) Close() error {
	if t.buildDir != "" {
		return os.RemoveAll(t.buildDir)
	}
	return nil
}

// Prepare builds the target when it is a Go package directory (Preparer).
func (t *binaryTarget) Prepare(ctx context.Context) error {
	_, err := t.Executable(ctx)
	return err
}

// Executable returns the program to run, building it first when the
// target is a Go package directory.
func (t *binaryTarget) Executable(ctx context.Context) (string, error) {
	t.buildOnce.Do(func() {
		t.bin, t.buildDir, t.buildErr = executable.Build(ctx, t.path, "", "")
	})
	return t.bin, t.buildErr
}

func (t *binaryTarget) Start(ctx context.Context, m *app.Manifest) (*Instance, error) {
	in := &Instance{Target: t.name, Mode: ModeBinary, Unsupported: map[string]string{}}
	bin, err := t.Executable(ctx)
	if err != nil {
		return in, err
	}
	dir, err := exportApp(in, m, "")
	if err != nil {
		return in, err
	}
	desc, err := executable.DescribeWithin(ctx, t.timeouts.Describe, bin, dir, t.env)
	if err != nil {
		in.DescribeError = err
	} else {
		in.Declaration = executable.DeclarationOf(desc)
		in.Description = desc
	}
	if shapes := executable.DeclaredLambdaShapes(desc); len(shapes) > 0 {
		// A Lambda function does not listen: it polls the kit's Runtime API.
		return startLambdaRuntimes(ctx, in, shapes, bin, append([]string{contract.EnvApp + "=" + dir}, t.env...), t.timeouts.Readiness)
	}
	port, err := freePort(bindHost)
	if err != nil {
		return in, err
	}
	env := append([]string{"HOST=" + bindHost, "PORT=" + strconv.Itoa(port), contract.EnvApp + "=" + dir}, t.env...)
	// An empty working directory, so PROC-7 can tell whether the adapter
	// writes files where it runs.
	work, err := ownership.TempDir("cwd")
	if err != nil {
		return in, err
	}
	in.onStop(func(context.Context) error { return os.RemoveAll(work) })
	p, err := startProcess(bin, work, nil, env)
	if err != nil {
		return in, err
	}
	h := &Host{Shape: app.ShapeStart, Export: "process", URL: "http://" + net.JoinHostPort(bindHost, strconv.Itoa(port)),
		Faults: &FaultLog{}, NextCalls: &atomic.Int64{}, Logs: p.logs.String, ExitStatus: p.exitStatus, WorkDir: work, LeftBehind: p.leftBehind}
	var shutdownOnce sync.Once
	var shutdownErr error
	h.Shutdown = func(ctx context.Context) error {
		shutdownOnce.Do(func() { shutdownErr = p.terminate(ctx, graceUnder(ctx, t.timeouts.Grace)) })
		return shutdownErr
	}
	in.onStop(func(ctx context.Context) error {
		h.Shutdown(ctx)
		p.kill()
		return nil
	})
	in.Hosts = append(in.Hosts, h)
	exited := p.done
	if err := waitReady(ctx, h.URL, t.timeouts.Readiness, exited, func() error {
		return fmt.Errorf("the adapter process %s; its output:\n%s", p.exitStatus(), tail(p.logs.String(), 2000))
	}); err != nil {
		h.StartError = err
	}
	return in, nil
}

// exportApp writes the manifest into a temporary directory (into its sub
// directory when sub is not "") for an out-of-process adapter to load, and
// removes it when the instance stops.
func exportApp(in *Instance, m *app.Manifest, sub string) (string, error) {
	dir, err := ownership.TempDir("app")
	if err != nil {
		return "", err
	}
	in.onStop(func(context.Context) error { return os.RemoveAll(dir) })
	appDir := filepath.Join(dir, sub)
	return appDir, app.WriteManifest(m, appDir)
}

// freePort asks the kernel for a free port on host. Another process may
// take it before the adapter binds it; the adapter then fails to start and
// START-2 says so with its output.
func freePort(host string) (int, error) {
	givenPorts.Lock()
	defer givenPorts.Unlock()
	for range 100 {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return 0, err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if at, ok := givenPorts.at[port]; !ok || time.Since(at) > portMemory {
			givenPorts.at[port] = time.Now()
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free port on %s that this process has not handed out in the last %s", host, portMemory)
}

// givenPorts are the ports freePort has handed out in this process. The
// port is free when freePort closes its listener, and the adapter binds it
// a moment later; in between, the system may hand the same port to another
// bind of port 0, and starts run concurrently (a fixture's instance starts
// in the background while another fixture's specs run), so a port is not
// given again for portMemory, long after the adapter has bound it or given
// up.
var givenPorts = struct {
	sync.Mutex
	at map[int]time.Time
}{at: map[int]time.Time{}}

const portMemory = 10 * time.Minute

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
