package runner

import (
	"context"
	"net/http"
	"time"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner/lambdahost"
)

// What an executor outside this package needs to run an adapter under the
// process contract the way the binary target does. The container target
// (runner/container) is such an executor: it lives in a package of its own
// so that only the programs that use container mode link testcontainers
// and the Docker client (issue 17), and everything it shares with the
// binary target is exported here, in one place, rather than copied, so
// that both modes keep one behaviour: the same options, the same exported
// app, the same grace and readiness probe, the same Lambda runtime. (What
// needs no target is in packages of its own: building, describing and the
// output kept, runner/executable; the marks and cleanup of what a run
// starts, runner/ownership; the Runtime API and the environment it gives a
// runtime, runner/lambdahost.)

// Settings are the options of a target (WithTimeouts and its shorthands
// WithReadinessTimeout and WithGracePeriod, WithEnv, WithName) after
// defaults, for a target type defined outside this package.
type Settings struct {
	Timeouts Timeouts // every field set: the defaults under the options
	Env      []string // KEY=VALUE pairs added to the adapter's environment
	Name     string   // the target's name in reports; "" to derive one
	// NoImageCache: build the image afresh and remove it on Close
	// (WithoutImageCache), for container targets.
	NoImageCache bool
}

// ApplyOptions gives the settings that opts make of the defaults, as the
// targets of this package read them: an Option is a func of an unexported
// type, so another package cannot apply it itself.
func ApplyOptions(opts ...Option) Settings {
	s := defaultSettings()
	for _, o := range opts {
		o(&s)
	}
	return Settings{Timeouts: s.timeouts, Env: s.env, Name: s.name, NoImageCache: s.noCache}
}

// OnStop adds f to what Stop runs, in reverse order of addition: an
// executor registers there the removal of whatever a Start created, as
// soon as it is created, so that a start that fails half-way leaves
// nothing behind either.
func (in *Instance) OnStop(f func(context.Context) error) { in.onStop(f) }

// ExportApp writes the manifest into a directory of the kit (into its sub
// directory when sub is not "") for an out-of-process adapter to load
// through contract.EnvApp, and removes it when the instance stops.
func ExportApp(in *Instance, m *app.Manifest, sub string) (string, error) {
	return exportApp(in, m, sub)
}

// GraceUnder is the grace period a stop under ctx gives an adapter: grace,
// or none under WithoutGrace.
func GraceUnder(ctx context.Context, grace time.Duration) time.Duration {
	return graceUnder(ctx, grace)
}

// ProbeClient is the readiness probe's HTTP client, which never follows a
// redirect: any HTTP answer means ready (START-2), in every mode alike.
func ProbeClient() *http.Client { return probeClient() }

// RunLambdaRuntime runs an adapter as a Lambda function of a shape, as the
// binary target does: the emulated gateway in front of api, a first cold
// start with launch and a wait (up to readiness) for the runtime's first
// poll; launch starts a new execution environment whenever one has exited.
// The returned Host, when not nil, belongs in in.Hosts; stopping in kills
// the runtime and closes the Runtime API and the gateway.
func RunLambdaRuntime(ctx context.Context, in *Instance, shape app.HostShape, api *lambdahost.RuntimeAPI, launch func() (lambdahost.Process, error), readiness time.Duration) (*Host, error) {
	return runLambdaRuntime(ctx, in, &Host{Shape: shape, Export: "runtime"}, api, launch, readiness, 0)
}
