package main

import (
	"context"
	"fmt"

	"github.com/adapterconformance/adapter-conformance/runner"
)

// containerTarget checks that Docker is reachable before anything starts:
// asking for a container without an engine is a kit-cannot-run error.
func containerTarget(ctx context.Context, spec string, statErr error) (runner.Target, error) {
	return nil, fmt.Errorf("target %s: container targets need the container runner (not built yet)", spec)
}
