// Package runner starts an adapter under test for a fixture app and exposes
// it to the suite as one or more hosts: HTTP base URLs behind which one of the
// adapter's exports (or its Start) answers. The suite only ever talks HTTP to
// a host, whatever the adapter's shape, so one set of specs covers every shape
// and mode; what cannot be seen over HTTP (the declaration, the exports, what
// the App itself received) is recorded here for the suite to check.
//
// Here are the Target interface, the in-process, binary and URL targets,
// and the one start flow that out-of-process targets share (executor.go).
// The rest is in packages of its own, which runner imports and which never
// import it: runner/contract, the process contract an adapter's main obeys;
// runner/executable, building an adapter's executable and reading its
// --describe; runner/ownership, the marks and cleanup of what a run starts;
// runner/lambdahost, the emulated Lambda hosts. The container target is
// package runner/container, which imports runner, apart so that only the
// programs that run containers link testcontainers and the Docker client.
package runner

import (
	"context"
	"sync"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner/contract"
)

// Mode is how the kit reaches the adapter.
type Mode string

const (
	// ModeInProcess: the adapter's integration runs in the kit's process.
	ModeInProcess Mode = "inprocess"
	// ModeBinary: a Go package built by the kit, or an executable, run as
	// a child process under the process contract.
	ModeBinary Mode = "binary"
	// ModeContainer: an image built or found in the local Docker engine,
	// run as a container under the process contract (runner/container).
	ModeContainer Mode = "container"
	// ModeURL: an adapter already deployed, reached at its URL.
	ModeURL Mode = "url"
)

// Target is an adapter the kit can start for a fixture app.
type Target interface {
	// Name identifies the target in reports.
	Name() string
	// Mode says how the target is reached.
	Mode() Mode
	// Start brings the adapter up for the manifest. The returned Instance is
	// non-nil even on error when anything was started, so that it can be
	// stopped and its declaration reported.
	Start(ctx context.Context, m *app.Manifest) (*Instance, error)
}

// Preparer is a target with work to do once, before its first Start:
// building a Go package or a container image. suite.Run prepares a target
// before any spec runs, so that a build is bounded by the whole run's
// timeout rather than by one fixture's start limit, and a target that
// cannot be built stops the run with one error naming the build, instead
// of a start failure in every fixture. Start still prepares a target that
// was not prepared. Its error is a *executable.BuildError.
type Preparer interface {
	Prepare(ctx context.Context) error
}

// Instance is a started adapter.
type Instance struct {
	Target      string               // the target's Name
	Mode        Mode                 // the target's Mode
	Declaration contract.Declaration // what the adapter's config-done hook declared
	// Exports is what CreateExports returned (in-process only); ExportsError
	// its error or panic.
	Exports      map[string]any
	ExportsError error
	// Hosts are the drivable host shapes, one per export or Start.
	Hosts []*Host
	// Unsupported lists exports the kit found no way to drive, with why.
	Unsupported map[string]string
	// Description is what an out-of-process adapter said of itself, or
	// DescribeError why it could not be had (PROC-1).
	Description   *contract.Description
	DescribeError error

	stopOnce sync.Once
	stops    []func(context.Context) error
	stopErr  error
}

// HostKey names one host: its shape and the export behind it ("start" for
// a Start host, "runtime" for a Lambda runtime process).
type HostKey struct {
	Shape  app.HostShape // the host's shape
	Export string        // the export's name, "start" or "runtime"
}

// ExportLister is a target that can name, before it is started, the
// exports it will put behind hosts, so that the suite registers its specs
// for every export of a shape, not only the first: an adapter exporting
// both a handler and a middleware has each checked. In-process targets are
// ExportListers; an out-of-process adapter has one host per process.
type ExportLister interface {
	ListExports(m *app.Manifest) []HostKey
}

// HostLister is a target that can name, before it is started, every host
// a start will give a fixture (its exports' and its Start's), so that the
// suite can leave out, when it registers them, the specs of the host
// shapes the adapter does not have, instead of running each only to find
// the host absent. ok is false when the target cannot be sure; the specs
// of every shape are then registered and the start decides.
type HostLister interface {
	ListHosts(m *app.Manifest) (hosts []HostKey, ok bool)
}

// HostFor returns the host of a shape whose export is export, or with
// export "", the first host of the shape; nil when there is none.
func (in *Instance) HostFor(shape app.HostShape, export string) *Host {
	if export == "" {
		return in.Host(shape)
	}
	if in == nil {
		return nil
	}
	for _, h := range in.Hosts {
		if h.Shape == shape && h.Export == export {
			return h
		}
	}
	return nil
}

// Host returns the first host of a shape, or nil.
func (in *Instance) Host(shape app.HostShape) *Host {
	if in == nil {
		return nil
	}
	for _, h := range in.Hosts {
		if h.Shape == shape {
			return h
		}
	}
	return nil
}

// Stop stops every host, in reverse start order. It is safe to call more
// than once and on a nil Instance.
func (in *Instance) Stop(ctx context.Context) error {
	if in == nil {
		return nil
	}
	in.stopOnce.Do(func() {
		for i := len(in.stops) - 1; i >= 0; i-- {
			if err := in.stops[i](ctx); err != nil && in.stopErr == nil {
				in.stopErr = err
			}
		}
	})
	return in.stopErr
}

func (in *Instance) onStop(f func(context.Context) error) { in.stops = append(in.stops, f) }
