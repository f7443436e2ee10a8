package main

import (
	"context"
	"fmt"

	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/runner/container"
)

// containerTarget checks that Docker is reachable and that the target can
// be built or found before anything starts: either failing is a
// kit-cannot-run error (exit 2), not a failed requirement.
func containerTarget(ctx context.Context, spec string, statErr error) (runner.Target, error) {
	// The CLI is a program, so it may set what testcontainers reads
	// process-wide; the library leaves that to its caller.
	container.ConfigureTestcontainers()
	if err := container.DockerAvailable(ctx); err != nil {
		return nil, fmt.Errorf("target %s needs a container engine: %w", spec, err)
	}
	t := container.Container(spec)
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
