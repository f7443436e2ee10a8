package main

import (
	"context"
	"fmt"
	"time"

	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/runner/container"
)

// containerTarget checks that Docker is reachable and that the target can
// be built or found before anything starts: either failing is a
// kit-cannot-run error (exit 2), not a failed requirement.
func containerTarget(ctx context.Context, spec string, statErr error, opts ...runner.Option) (runner.Target, error) {
	// The CLI is a program, so it may set what testcontainers reads
	// process-wide; the library leaves that to its caller.
	container.ConfigureTestcontainers()
	if err := container.DockerAvailable(ctx); err != nil {
		return nil, fmt.Errorf("target %s needs a container engine: %w", spec, err)
	}
	t := container.Container(spec, opts...)
	if p, ok := t.(runner.Preparer); ok {
		if err := p.Prepare(ctx); err != nil {
			if statErr != nil {
				return t, fmt.Errorf("target %s is not a path (%v) and: %w", spec, statErr, err)
			}
			return t, err
		}
	}
	return t, nil
}

// imageLine says whether a container target's image was reused from the
// image cache or built by this run (a cold build, and its time), so that a
// slow run says why; "" for other targets and for an image given by name.
func imageLine(t runner.Target) string {
	b, ok := t.(interface {
		ImageBuilt() (reused, built bool, took time.Duration)
	})
	if !ok {
		return ""
	}
	switch reused, built, took := b.ImageBuilt(); {
	case reused:
		return "image: reused from the image cache (its build context is unchanged; --no-image-cache rebuilds it)"
	case built:
		return fmt.Sprintf("image: cold build in %s", took.Round(time.Millisecond))
	}
	return ""
}
