package lambdahost

import (
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"strings"
	"time"
)

// A crash is an invocation that ends its execution environment instead of
// answering (LAMBDA-16): in-process, a panic on the handler's own goroutine,
// which the invoker recovers, as aws-lambda-go's runtime loop does before it
// reports the panic on /error and exits; out of process, a runtime process
// that exits during the invocation or right after reporting its error,
// which is what lambda.Start does after a panic. The gateway answers 502, as
// AWS does, and out of process the next invocation is a cold start.
//
// A panic on a goroutine the function started itself cannot be recovered
// by anyone but that goroutine: in-process it ends the test binary, as it
// ends a real runtime process; run such an adapter as a binary to see it
// reported as a crash.

// CrashError is an invocation whose function crashed; Err is what it
// reported (the panic, or the error it posted before exiting).
type CrashError struct {
	How string // "panicked", "exited during the invocation", ...
	Err error  // what the function reported: a *FunctionError, or why it could not say
}

// Error says how the function crashed and what it reported.
func (e *CrashError) Error() string { return "the function " + e.How + ": " + e.Err.Error() }

// Unwrap returns what the function reported, for errors.As.
func (e *CrashError) Unwrap() error { return e.Err }

// IsCrash reports whether an invocation's error is a crash.
func IsCrash(err error) bool {
	var c *CrashError
	return errors.As(err, &c)
}

// panicError is how the in-process invoker reports a recovered panic: the
// panic value's type and text, as aws-lambda-go posts them to /error, and
// the top of the stack.
func panicError(p any) *CrashError {
	typ := reflect.TypeOf(p)
	name := "nil"
	if typ != nil {
		if typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		name = typ.Name()
	}
	stack := string(debug.Stack())
	const maxStack = 4 << 10
	if len(stack) > maxStack {
		stack = stack[:maxStack] + "\n..."
	}
	return &CrashError{How: "panicked", Err: &FunctionError{Type: name, Message: fmt.Sprintf("%v\n%s", p, strings.TrimSpace(stack))}}
}

// crashGrace is how long the kit waits, after a runtime reported an
// invocation's error, to see whether the process exits because of it.
const crashGrace = 500 * time.Millisecond

// crashOf turns the error an out-of-process invocation ended with into a
// CrashError when the runtime process exited during it, or exits within
// crashGrace of reporting it.
func crashOf(p Process, err error) error {
	var fe *FunctionError
	if err == nil || !errors.As(err, &fe) {
		return err
	}
	switch fe.Type {
	case "Sandbox.Timedout", "Runtime.Unavailable":
		return err // the kit ended it, or could not start it
	case "Runtime.ExitError":
		return &CrashError{How: "exited during the invocation", Err: err}
	}
	select {
	case <-p.Exited():
		return &CrashError{How: "reported an error and its runtime process " + p.ExitStatus(), Err: err}
	case <-time.After(crashGrace):
		return err
	}
}
