package lambdahost

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Process is one execution environment of a Lambda function, run by
// whoever launches it (runner: an exec'd process, or a container in
// runner/container): what a Function needs to restart it as the Lambda
// service does and to report its output.
type Process interface {
	// Exited is closed once it has ended; Output and ExitStatus are final
	// from then on.
	Exited() <-chan struct{}
	// ExitStatus says how it ended, or "" while it runs.
	ExitStatus() string
	// Output is what it wrote so far.
	Output() string
	// Kill ends it at once (SIGKILL) and waits, briefly, for its end.
	Kill()
}

// Function is an adapter run as a Lambda function out of process: the
// runtime process (or container) that launch starts, restarted when it
// exits as the Lambda service does with a new execution environment, and
// the Runtime API it polls. Its Invoke is the Invoker a Gateway puts in
// front of it.
type Function struct {
	// launch starts a new runtime process (a cold start).
	launch    func() (Process, error)
	api       *RuntimeAPI
	readiness time.Duration

	mu       sync.Mutex
	p        Process
	starts   int
	oldLogs  strings.Builder
	gaveUp   string
	stopping bool
	// endNote says why the kit ended the running process, for its logs
	// once it has exited (after its own output).
	endNote string
}

// maxRuntimeStarts bounds cold starts, so a runtime that exits on every
// invocation fails its specs instead of looping.
const maxRuntimeStarts = 20

// ensure starts the process when none is running (a cold start).
func (fn *Function) ensure() (Process, error) {
	fn.mu.Lock()
	defer fn.mu.Unlock()
	if fn.stopping {
		return nil, errors.New("the runtime is being stopped")
	}
	if fn.p != nil {
		select {
		case <-fn.p.Exited():
			fmt.Fprintf(&fn.oldLogs, "%s%s--- the runtime process %s; the kit starts a new one (cold start) ---\n", fn.p.Output(), fn.endNote, fn.p.ExitStatus())
			fn.endNote = ""
			fn.p = nil
		default:
			return fn.p, nil
		}
	}
	if fn.starts >= maxRuntimeStarts {
		if fn.gaveUp == "" {
			fn.gaveUp = fmt.Sprintf("exited %d times; the kit stopped restarting it", fn.starts)
		}
		return nil, errors.New("the runtime process " + fn.gaveUp)
	}
	p, err := fn.launch()
	if err != nil {
		return nil, err
	}
	fn.starts++
	fn.p = p
	return p, nil
}

// NewFunction is a function whose runtime processes launch starts, each
// told (through Env) to poll api; readiness bounds how long Start waits for
// a runtime's first poll. Nothing runs before Start or the first Invoke.
func NewFunction(api *RuntimeAPI, launch func() (Process, error), readiness time.Duration) *Function {
	return &Function{launch: launch, api: api, readiness: readiness}
}

// Start makes the first cold start and waits until the runtime asks for
// its first invocation, its process exits, or the readiness bound passes.
// An error from launch is returned as it is; the wait's failure (the
// runtime never polled: START-2 for a Lambda host) is wrapped in a
// *NotReadyError, so that the caller can tell a function that is running
// but broken from one that could not be started.
func (fn *Function) Start(ctx context.Context) error {
	p, err := fn.ensure()
	if err != nil {
		return err
	}
	if err := fn.waitPolled(ctx, p); err != nil {
		return &NotReadyError{Err: err}
	}
	return nil
}

// NotReadyError is a Function whose runtime did not ask for an invocation
// after its first cold start.
type NotReadyError struct{ Err error }

// Error says why the runtime is not ready, with the end of its output.
func (e *NotReadyError) Error() string { return e.Err.Error() }

// Unwrap returns why, for errors.Is (a cancelled context).
func (e *NotReadyError) Unwrap() error { return e.Err }

// Logs is what the runtime processes wrote so far: those that ended, each
// with how it ended, then the running one's.
func (fn *Function) Logs() string {
	fn.mu.Lock()
	s, p, note := fn.oldLogs.String(), fn.p, fn.endNote
	fn.mu.Unlock()
	// A container's output is fetched from the engine: not under fn.mu.
	if p != nil {
		s += p.Output() + note
	}
	return s
}

// ExitStatus says why the function no longer runs (the kit stopped
// restarting a runtime that kept exiting), or "".
func (fn *Function) ExitStatus() string {
	fn.mu.Lock()
	defer fn.mu.Unlock()
	return fn.gaveUp
}

// Invoke runs one invocation, starting a runtime process when none runs.
// A process that exits before taking the invocation is replaced, as the
// Lambda service replaces an execution environment; the invocation waits
// for the new one.
func (fn *Function) Invoke(ctx context.Context, requestID string, event []byte) ([]byte, error) {
	p, err := fn.ensure()
	if err != nil {
		return nil, &FunctionError{Type: "Runtime.Unavailable", Message: err.Error()}
	}
	inv, err := fn.api.enqueue(ctx, requestID, event)
	if err != nil {
		return nil, err
	}
	// Past its deadline, an invocation the runtime took but has not
	// answered (or is still streaming) ends its execution environment, as
	// the Lambda service does: the next invocation gets a cold start
	// instead of a runtime still busy with this one.
	// owner is the process the invocation is waiting on; only it is ended.
	var ownerMu sync.Mutex
	owner := p
	// Timed from the invocation's deadline, not ctx: a stream whose client
	// left is drained until then, after the gateway has returned.
	timedOut := time.AfterFunc(time.Until(inv.deadline), func() {
		defer inv.settle()
		if inv.taken.Load() && !inv.answered.Load() {
			ownerMu.Lock()
			defer ownerMu.Unlock()
			fn.endTimedOut(requestID, owner)
		}
	})
	for {
		res, retry := fn.api.wait(ctx, inv, p.Exited())
		if !retry {
			if res.stream == nil && inv.answered.Load() {
				timedOut.Stop()
			}
			out, err := res.deliver(ctx)
			return out, crashOf(p, err)
		}
		if p, err = fn.ensure(); err != nil {
			inv.dropped.Store(true)
			return nil, &FunctionError{Type: "Runtime.Unavailable", Message: err.Error()}
		}
		ownerMu.Lock()
		owner = p
		ownerMu.Unlock()
	}
}

// endTimedOut kills the runtime process an invocation timed out in, when
// it is still the running one (not a newer cold start).
func (fn *Function) endTimedOut(requestID string, owner Process) {
	fn.mu.Lock()
	p := fn.p
	if p != owner {
		p = nil
	}
	if p != nil {
		select {
		case <-p.Exited():
			p = nil // it ended on its own; its group may be gone
		default:
			if fn.stopping {
				p = nil
			} else {
				fn.endNote = fmt.Sprintf("--- invocation %s timed out; the kit ended this execution environment, as the Lambda service does ---\n", requestID)
			}
		}
	}
	fn.mu.Unlock()
	if p != nil {
		p.Kill()
	}
}

// Stop kills the running runtime process and closes the Runtime API; no
// cold start follows.
func (fn *Function) Stop() {
	fn.mu.Lock()
	fn.stopping = true
	p := fn.p
	fn.mu.Unlock()
	if p != nil {
		// The Lambda service ends an execution environment with SIGKILL
		// (SIGTERM only when extensions are registered).
		p.Kill()
	}
	fn.api.Close()
}

// waitPolled waits until the runtime asks for its first invocation, the
// process exits, or the readiness timeout passes.
func (fn *Function) waitPolled(ctx context.Context, p Process) error {
	t := time.NewTimer(fn.readiness)
	defer t.Stop()
	select {
	case <-fn.api.Polled():
		return nil
	case <-p.Exited():
		msg := "the runtime process " + p.ExitStatus() + " before it asked for an invocation (GET " + RuntimeAPIVersion + "/runtime/invocation/next)"
		if ie := fn.api.InitError(); ie != nil {
			msg += "; it posted /runtime/init/error: " + ie.Error()
		}
		return fmt.Errorf("%s; its output:\n%s", msg, tail(p.Output(), 2000))
	case <-t.C:
		return fmt.Errorf("the runtime never asked for an invocation (GET %s/runtime/invocation/next on AWS_LAMBDA_RUNTIME_API=%s) within %s; its output:\n%s",
			RuntimeAPIVersion, fn.api.Addr, fn.readiness, tail(p.Output(), 2000))
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Env is the environment the Lambda service gives a runtime, with
// the Runtime API at addr and the function's code in taskRoot.
func Env(addr, taskRoot string) []string {
	return []string{
		"AWS_LAMBDA_RUNTIME_API=" + addr,
		"AWS_LAMBDA_FUNCTION_NAME=adapter-conformance", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512", "AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/adapter-conformance", "AWS_LAMBDA_LOG_STREAM_NAME=conformance",
		"LAMBDA_TASK_ROOT=" + taskRoot, "_HANDLER=bootstrap",
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
