package runner

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner/lambdahost"
	"github.com/adapterconformance/adapter-conformance/runner/ownership"
)

// An adapter built as its own executable that declares a Lambda host
// shape (HostShape.IsLambda) does not listen: the binary target (and the
// container target, through RunLambdaRuntime) runs it as a Lambda
// function, polling the kit's Runtime API (lambdahost.RuntimeAPI), once per
// declared shape, each behind that shape's emulated gateway.

// StartLambdaRuntime runs an executable as a Lambda function of a shape:
// the kit serves the Runtime API, starts bin with AWS_LAMBDA_RUNTIME_API
// (and env) and puts the emulated gateway in front. The host's StartError
// says why the runtime never asked for an invocation within readiness.
// timeout is each invocation's deadline (lambdahost.Timeout when zero).
func StartLambdaRuntime(ctx context.Context, in *Instance, shape app.HostShape, bin string, args, env []string, readiness, timeout time.Duration) (*Host, error) {
	api, err := lambdahost.NewRuntimeAPI()
	if err != nil {
		return nil, err
	}
	work, err := ownership.TempDir("cwd")
	if err != nil {
		api.Close()
		return nil, err
	}
	// Removed after the runtime is stopped (stops run in reverse order).
	in.onStop(func(context.Context) error { return os.RemoveAll(work) })
	env = append(lambdahost.Env(api.Addr, filepath.Dir(bin)), env...)
	launch := func() (lambdahost.Process, error) {
		p, err := startProcess(bin, work, args, env)
		if err != nil {
			return nil, err
		}
		return runtimeProcess{p}, nil
	}
	h := &Host{Shape: shape, Export: "runtime", WorkDir: work}
	return runLambdaRuntime(ctx, in, h, api, launch, readiness, timeout)
}

// runLambdaRuntime puts the emulated gateway in front of a Runtime API and
// the runtime processes launch starts, makes the first cold start and
// waits for the runtime's first poll. h has its Shape, Export and WorkDir
// set; the rest is filled here, Gateway and Runtime included. Stopping the
// instance kills the runtime and closes the Runtime API and the gateway.
func runLambdaRuntime(ctx context.Context, in *Instance, h *Host, api *lambdahost.RuntimeAPI, launch func() (lambdahost.Process, error), readiness, timeout time.Duration) (*Host, error) {
	fn := lambdahost.NewFunction(api, launch, readiness)
	h.Faults, h.NextCalls, h.Logs, h.ExitStatus = &FaultLog{}, &atomic.Int64{}, fn.Logs, fn.ExitStatus
	h.Gateway, h.Runtime = lambdahost.NewGateway(h.Shape, fn.Invoke, h.Faults), api
	if timeout > 0 {
		h.Gateway.Timeout = timeout
	}
	srv := httptest.NewUnstartedServer(h.Gateway)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	h.URL = srv.URL
	in.onStop(func(context.Context) error {
		fn.Stop()
		srv.CloseClientConnections()
		srv.Close()
		return nil
	})
	err := fn.Start(ctx)
	if notReady := (*lambdahost.NotReadyError)(nil); errors.As(err, &notReady) {
		// START-2: the host is there, but its runtime never polled.
		h.StartError, err = notReady.Err, nil
	}
	return h, err
}

// runtimeProcess is an exec'd runtime process as a lambdahost.Function
// runs it.
type runtimeProcess struct{ p *process }

func (r runtimeProcess) Exited() <-chan struct{} { return r.p.done }
func (r runtimeProcess) ExitStatus() string      { return r.p.exitStatus() }
func (r runtimeProcess) Output() string          { return r.p.logs.String() }
func (r runtimeProcess) Kill()                   { r.p.kill() }

// startLambdaRuntimes runs the executable as a Lambda function once per
// declared shape, each against a Runtime API of its own.
func startLambdaRuntimes(ctx context.Context, in *Instance, shapes []app.HostShape, bin string, env []string, readiness time.Duration) (*Instance, error) {
	for _, shape := range shapes {
		h, err := StartLambdaRuntime(ctx, in, shape, bin, nil, env, readiness, 0)
		if h != nil {
			in.Hosts = append(in.Hosts, h)
		}
		if err != nil {
			return in, err
		}
	}
	return in, nil
}
