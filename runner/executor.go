package runner

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner/contract"
	"github.com/adapterconformance/adapter-conformance/runner/lambdahost"
)

// What an executor outside this package needs to run an adapter under the
// process contract the way the binary target does. The container target
// (runner/container) is such an executor: it lives in a package of its own
// so that only the programs that use container mode link testcontainers
// and the Docker client (issue 17), and everything it shares with the
// binary target is exported here, in one place, rather than copied, so
// that both modes keep one behaviour: the same options, the same exported
// app, the same --describe reading and errors, the same Lambda runtime. (The
// Lambda pieces that need no target, the Runtime API, the environment
// it gives a runtime, are runner/lambdahost's.)

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

// BuildExecutable resolves path (an executable, or a Go main package
// directory, built then) to an executable, as the binary target does;
// goos and goarch, when set, cross-build a static one for another platform
// (a container's). buildDir, when not "", holds the build: the caller
// removes it. Its error is a *BuildError.
func BuildExecutable(ctx context.Context, path, goos, goarch string) (bin, buildDir string, err error) {
	return buildOrFind(ctx, path, goos, goarch)
}

// DescribeCapture collects what one --describe run prints and reads the
// description from it, with the binary target's bounds and errors: stdout
// is capped (a declaration is a few kilobytes), stderr is kept as an
// adapter's output is, and a failed run is explained with its stderr.
type DescribeCapture struct {
	stdout *cappedBuffer
	stderr *logBuffer
}

// NewDescribeCapture is an empty capture.
func NewDescribeCapture() *DescribeCapture {
	return &DescribeCapture{stdout: &cappedBuffer{limit: describeOutputLimit}, stderr: newLogBuffer()}
}

// Writers are where the run's stdout and stderr go.
func (c *DescribeCapture) Writers() (stdout, stderr io.Writer) { return c.stdout, c.stderr }

// Description is the description the run printed, or why there is none:
// runErr (the run failed: not started, not exited in time, a non-zero
// status) with the end of its stderr, output over the cap, or output
// that is no description. what names the run in errors.
func (c *DescribeCapture) Description(what string, runErr error) (*contract.Description, error) {
	return describeResult(what, runErr, c.stdout, c.stderr)
}

// DeclarationOf turns a description back into the declaration the suite
// checks (Instance.Declaration).
func DeclarationOf(d *contract.Description) contract.Declaration { return declarationOf(d) }

// OutputBuffer keeps an adapter's output as every target reports it: its
// beginning and its end, with a note of how much was dropped between.
type OutputBuffer interface {
	io.Writer
	String() string
}

// NewOutputBuffer is an empty OutputBuffer, safe for concurrent writes.
func NewOutputBuffer() OutputBuffer { return newLogBuffer() }

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
