package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner/contract"
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

// BuildError is a target the kit could not build or find: the run cannot
// happen at all (the CLI's exit status 2).
type BuildError struct {
	Err error // why the build, or the search for an image, failed
}

// Error is the build's error, which carries the build's log.
func (e *BuildError) Error() string { return e.Err.Error() }

// Unwrap returns the build's error, for errors.Is(err, ErrNoDocker).
func (e *BuildError) Unwrap() error { return e.Err }

// Prepare builds the target when it is a Go package directory (Preparer).
func (t *binaryTarget) Prepare(ctx context.Context) error {
	_, err := t.Executable(ctx)
	return err
}

// Executable returns the program to run, building it first when the
// target is a Go package directory.
func (t *binaryTarget) Executable(ctx context.Context) (string, error) {
	t.buildOnce.Do(func() {
		t.bin, t.buildDir, t.buildErr = buildOrFind(ctx, t.path, "", "")
	})
	return t.bin, t.buildErr
}

// buildOrFind resolves a target path to an executable. goos and goarch,
// when set, cross-build for a container's platform (static, CGO off).
func buildOrFind(ctx context.Context, path, goos, goarch string) (bin, buildDir string, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", "", &BuildError{fmt.Errorf("target %s does not exist: %w", path, err)}
	}
	if !fi.IsDir() {
		if fi.Mode()&0o111 == 0 {
			return "", "", &BuildError{fmt.Errorf("target %s is a file but not executable", path)}
		}
		abs, _ := filepath.Abs(path)
		return abs, "", nil
	}
	pkg, err := MainPackage(ctx, path)
	if err != nil {
		return "", "", &BuildError{err}
	}
	ownership.SweepDeadRunsOnce()
	buildDir, err = ownership.TempDir("build")
	if err != nil {
		return "", "", err
	}
	bin = filepath.Join(buildDir, "adapter")
	// The go tool's own work directory goes inside the kit's, so that a
	// build cut short (which kills go before it cleans up) leaves nothing.
	goTmp := filepath.Join(buildDir, "gotmp")
	if err := os.Mkdir(goTmp, 0o700); err != nil {
		os.RemoveAll(buildDir)
		return "", "", err
	}
	cmd := goCommand(ctx, pkg, "build", "-o", bin, ".")
	cmd.Env = append(append(ownership.Environ(), ownership.Env(ownership.NextProcessID())...), "CGO_ENABLED=0", "GOTMPDIR="+goTmp)
	if goos != "" {
		cmd.Env = append(cmd.Env, "GOOS="+goos, "GOARCH="+goarch)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(buildDir)
		if ctx.Err() != nil {
			// "signal: killed" would hide that the kit stopped the build.
			return "", "", &BuildError{fmt.Errorf("building %s: stopped before it finished: %w\n%s", pkg, context.Cause(ctx), out)}
		}
		return "", "", &BuildError{fmt.Errorf("building %s: %v\n%s", pkg, err, out)}
	}
	return bin, buildDir, nil
}

// goCommand runs the go tool in dir, in a process group of its own, so
// that when ctx ends (the run's timeout, Ctrl-C) the compilers and linkers
// it started end with it instead of running on after the kit has gone.
func goCommand(ctx context.Context, dir string, args ...string) *exec.Cmd {
	cmd := groupCommand(ctx, "go", args...)
	cmd.Dir = dir
	return cmd
}

// groupCommand is a command run in a process group of its own that is
// killed whole when ctx ends: whatever the program started goes with it.
func groupCommand(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = ownership.ProcAttr()
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// Bounds Wait when a killed program's child still holds the output pipe.
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

// MainPackage finds the Go main package of a target directory: the
// directory itself, or its only main package under cmd/.
func MainPackage(ctx context.Context, dir string) (string, error) {
	name, err := goPackageName(ctx, dir)
	if ctx.Err() != nil {
		// "signal: killed" would read as a broken package.
		return "", fmt.Errorf("looking for the main package of %s: stopped before it finished: %w", dir, context.Cause(ctx))
	}
	if err == nil && name == "main" {
		return dir, nil
	}
	var mains []string
	entries, _ := os.ReadDir(filepath.Join(dir, "cmd"))
	for _, e := range entries {
		sub := filepath.Join(dir, "cmd", e.Name())
		if n, err := goPackageName(ctx, sub); e.IsDir() && err == nil && n == "main" {
			mains = append(mains, sub)
		}
	}
	switch {
	case len(mains) == 1:
		return mains[0], nil
	case len(mains) > 1:
		return "", fmt.Errorf("target %s has several main packages under cmd/ (%s): name one", dir, strings.Join(mains, ", "))
	case err != nil:
		return "", fmt.Errorf("target %s is not a Go package directory: %v", dir, err)
	}
	return "", fmt.Errorf("target %s holds Go package %q, not a main package, and has no main package under cmd/", dir, name)
}

func goPackageName(ctx context.Context, dir string) (string, error) {
	cmd := goCommand(ctx, dir, "list", "-f", "{{.Name}}", ".")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

const (
	// describeTimeout bounds a --describe run, in a process or a container.
	describeTimeout = 10 * time.Second
	// describeOutputLimit bounds what --describe may print: a declaration
	// is a few kilobytes, and what the kit reads ends up in every report.
	describeOutputLimit = 1 << 20
)

// Describe runs the executable with --describe for an exported app (PROC-1),
// within the default Timeouts.Describe.
func Describe(ctx context.Context, bin, appDir string, env []string) (*contract.Description, error) {
	return describeWithin(ctx, describeTimeout, bin, appDir, env)
}

// describeWithin runs --describe in a process group of its own, which is
// killed once it has exited: a --describe that leaves a child running does
// not leak it.
func describeWithin(ctx context.Context, limit time.Duration, bin, appDir string, env []string) (*contract.Description, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := groupCommand(ctx, bin, contract.DescribeFlag)
	id := ownership.NextProcessID()
	cmd.Env = append(append(append(ownership.Environ(), ownership.Env(id)...), env...), contract.EnvApp+"="+appDir)
	stdout, stderr := &cappedBuffer{limit: describeOutputLimit}, newLogBuffer()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	what := bin + " " + contract.DescribeFlag
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s could not be started: %w", what, err)
	}
	ownership.RememberGroup(cmd.Process.Pid)
	err := cmd.Wait()
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	ownership.KillAll(ownership.Descendants(id)) // children that left the group too
	if errors.Is(err, exec.ErrWaitDelay) {
		// It exited, but a child it left kept the output open; the child
		// is gone with the group, and what was printed is complete.
		err = nil
	}
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("it did not exit within %s (%v)", limit, err)
	}
	return describeResult(what, err, stdout, stderr)
}

// describeResult turns what a --describe run printed into a description,
// or into an error that shows the end of what the adapter wrote on stderr,
// which is where it says why it failed.
func describeResult(what string, runErr error, stdout *cappedBuffer, stderr *logBuffer) (*contract.Description, error) {
	logs := stderr.String()
	switch {
	case runErr != nil:
		return nil, fmt.Errorf("%s failed: %v; the end of its stderr:\n%s", what, runErr, tail(logs, 2000))
	case stdout.truncated:
		return nil, fmt.Errorf("%s printed more than %d bytes: a declaration is a few kilobytes of JSON (output: %.200q...)", what, describeOutputLimit, stdout.Bytes())
	}
	return ParseDescription(stdout.Bytes())
}

// ParseDescription decodes what --describe printed.
func ParseDescription(out []byte) (*contract.Description, error) {
	var d contract.Description
	if err := json.Unmarshal(bytes.TrimSpace(out), &d); err != nil {
		return nil, fmt.Errorf("the adapter's %s output is not a JSON description: %v (output: %.200q)%s", contract.DescribeFlag, err, out, expectedShape())
	}
	if d.Contract != contract.Version {
		var fields map[string]json.RawMessage
		json.Unmarshal(bytes.TrimSpace(out), &fields)
		if _, ok := fields["contract"]; !ok {
			what := "it has no \"contract\" field"
			if _, ok := fields["name"]; ok {
				what = "it looks like a bare setAdapter declaration (it has \"name\" but no \"contract\"): the declaration goes inside the envelope, as one of its setAdapterCalls"
			}
			return nil, fmt.Errorf("the adapter's %s output is not the description envelope: %s (output: %.200q)%s", contract.DescribeFlag, what, out, expectedShape())
		}
		return nil, fmt.Errorf("the adapter describes itself with contract version %d; this kit speaks version %d%s", d.Contract, contract.Version, expectedShape())
	}
	return &d, nil
}

// expectedShape shows what a description looks like, for the error of one
// that is not.
func expectedShape() string {
	return fmt.Sprintf("; expected one JSON object like\n  %s\n(%s in the kit's repository specifies it)", contract.ExampleDescription, contract.SchemaFile)
}

// declarationOf turns a description back into what the suite checks.
func declarationOf(d *contract.Description) contract.Declaration {
	out := contract.Declaration{HookRan: d.HookRan}
	if d.HookError != "" {
		out.HookError = errors.New(d.HookError)
	}
	for _, c := range d.Calls {
		out.Calls = append(out.Calls, c.Adapter)
	}
	return out
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
	desc, err := describeWithin(ctx, t.timeouts.Describe, bin, dir, t.env)
	if err != nil {
		in.DescribeError = err
	} else {
		in.Declaration = declarationOf(desc)
		in.Description = desc
	}
	if shapes := DeclaredLambdaShapes(desc); len(shapes) > 0 {
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
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
