package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/broken"
	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/runner/executable"
)

// From --target and --mode to a runner.Target, built before any spec runs.

// looksLikePath reports whether a target can only be a file system path:
// an image reference never starts with ".", "/" or "~".
func looksLikePath(spec string) bool {
	return strings.HasPrefix(spec, ".") || strings.HasPrefix(spec, "/") || strings.HasPrefix(spec, "~")
}

// prepareTarget resolves the target and builds it (a Go package, a
// container image) before any spec runs, within the run's deadline. An
// interrupt (Ctrl-C, a CI job cancelled) stops the build and still lets
// the reports be written and the build directory be removed; once the
// suite runs, ginkgo's own interrupt handling takes over.
func prepareTarget(deadline time.Time, spec string, mode runner.Mode, opts ...runner.Option) (runner.Target, error) {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	t, err := resolveTarget(ctx, spec, mode, opts...)
	if err == nil {
		if p, ok := t.(runner.Preparer); ok {
			err = p.Prepare(ctx)
		}
	}
	if err != nil && errors.Is(ctx.Err(), context.Canceled) {
		// The signal, not the deadline, ended it.
		err = fmt.Errorf("%w: %w", errInterrupted, err)
	}
	return t, err
}

// errInterrupted marks a target preparation that SIGINT or SIGTERM cut.
var errInterrupted = errors.New("interrupted")

// builtinTargets are the kit's own adapters, good and broken, taken from
// their registries so that none can be missing here.
func builtinTargets(opts ...runner.Option) map[string]runner.Target {
	targets := map[string]runner.Target{}
	for _, g := range good.All() {
		targets[g.Name] = runner.InProcess(g.Name, g.Integration, opts...)
	}
	for _, b := range broken.All() {
		targets["broken-"+b.Name] = runner.InProcess(b.Name, b.Integration, append([]runner.Option{runner.WithReadinessTimeout(2 * time.Second)}, opts...)...)
	}
	return targets
}

// resolveTarget turns --target and --mode into a runner.Target. In auto
// mode: builtin:NAME runs in-process, an http(s) URL is a deployment, a Go
// package directory or an executable runs as a binary (no Docker needed), a
// directory with only a Dockerfile or the name of a local image runs as a
// container.
func resolveTarget(ctx context.Context, spec string, mode runner.Mode, opts ...runner.Option) (runner.Target, error) {
	switch mode {
	case "auto", runner.ModeInProcess, runner.ModeBinary, runner.ModeContainer, runner.ModeURL:
	default:
		return nil, usageError{fmt.Sprintf("--mode %q: want auto, inprocess, binary, container or url", mode)}
	}
	if name, ok := strings.CutPrefix(spec, "builtin:"); ok {
		if mode != "auto" && mode != runner.ModeInProcess {
			return nil, usageError{fmt.Sprintf("builtin targets run in-process, not in %s mode", mode)}
		}
		t, ok := builtinTargets(opts...)[name]
		if !ok {
			return nil, usageError{fmt.Sprintf("unknown built-in target %q (see 'adapter-conformance list --targets')", name)}
		}
		return t, nil
	}
	if strings.HasPrefix(spec, "http://") || strings.HasPrefix(spec, "https://") {
		if mode != "auto" && mode != runner.ModeURL {
			return nil, usageError{fmt.Sprintf("a URL target runs in url mode, not %s", mode)}
		}
		t, err := runner.URL(spec, opts...)
		if err != nil {
			return nil, err
		}
		if err := runner.Probe(ctx, spec); err != nil {
			return nil, fmt.Errorf("target %s does not answer: %w", runner.RedactURLs(spec), err) // err names the deployment
		}
		return t, nil
	}
	fi, statErr := os.Stat(spec)
	if mode == "auto" {
		switch {
		case statErr == nil && !fi.IsDir():
			mode = runner.ModeBinary
		case statErr == nil:
			if _, err := executable.MainPackage(ctx, spec); err == nil {
				mode = runner.ModeBinary
			} else if _, err := os.Stat(filepath.Join(spec, "Dockerfile")); err == nil {
				mode = runner.ModeContainer
			} else {
				return nil, fmt.Errorf("target %s is neither a Go main package nor a directory with a Dockerfile: %w", spec, err)
			}
		case looksLikePath(spec):
			// ./x, ../x, /x, ~/x: never an image name; a typo, not a
			// container target.
			return nil, fmt.Errorf("target %s does not exist: %w", spec, statErr)
		default:
			mode = runner.ModeContainer // maybe the name of a local image
		}
	}
	switch mode {
	case runner.ModeInProcess:
		return nil, usageError{"only builtin:NAME targets run in-process from the CLI; for your own adapter use suite.Test in a Go test"}
	case runner.ModeURL:
		return nil, usageError{fmt.Sprintf("target %q is not an http:// or https:// URL", runner.RedactURLs(spec))}
	case runner.ModeBinary:
		if statErr != nil {
			return nil, fmt.Errorf("target %s does not exist: %w", spec, statErr)
		}
		return runner.Binary(spec, opts...), nil
	default:
		return containerTarget(ctx, spec, statErr, opts...)
	}
}
