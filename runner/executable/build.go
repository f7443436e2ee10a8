// Package executable is what the kit does with an adapter that is its own
// program, before running it: it builds a Go main package into an
// executable (Build, MainPackage, BuildError), asks the executable what it
// is under the process contract (Describe, ParseDescription,
// DescribeCapture) and reads the answer (DeclarationOf,
// DeclaredLambdaShapes), and keeps what the executable writes
// (OutputBuffer). The binary target (runner) and the container target
// (runner/container) share it, so that both modes build, describe and
// report alike.
//
// It depends on app, runner/contract, runner/ownership and the standard
// library; runner imports it, so it never imports runner.
package executable

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/adapterconformance/adapter-conformance/runner/ownership"
)

// BuildError is a target the kit could not build or find: the run cannot
// happen at all (the CLI's exit status 2). Build returns it, and so do a
// target's Prepare and Start (runner.Preparer) when the build fails.
type BuildError struct {
	Err error // why the build, or the search for an image, failed
}

// Error is the build's error, which carries the build's log.
func (e *BuildError) Error() string { return e.Err.Error() }

// Unwrap returns the build's error, for errors.Is(err, ErrNoDocker).
func (e *BuildError) Unwrap() error { return e.Err }

// Build resolves path (an executable, or a Go main package directory,
// built then) to an executable, as the binary target does; goos and
// goarch, when set, cross-build a static one for another platform (a
// container's; CGO is off in every build). buildDir, when not "", holds
// the build: the caller removes it. Its error is a *BuildError.
func Build(ctx context.Context, path, goos, goarch string) (bin, buildDir string, err error) {
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
// directory itself, or its only main package under cmd/. The CLI asks it
// to tell a Go target from a container one, and Build to build it.
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
