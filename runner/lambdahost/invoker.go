package lambdahost

import (
	"bytes"
	"context"
	"io"
	"reflect"
	"sync"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// InProcessInvoker invokes a Go Lambda handler (any value lambda.Start
// accepts: a handler function, which aws-lambda-go's lambda.NewHandler
// wraps, or a lambda.Handler, such as a published bridge returns) in this
// process, the way the Lambda service does: each invocation runs in an
// execution environment of its own handler instance, one invocation at a
// time per environment, with a lambdacontext and a deadline. A panic on the
// handler's goroutine is recovered and is the function's error, a
// CrashError, as aws-lambda-go reports it before its process exits; the
// environment is not reused. A lambda.Handler's result is its Invoke's
// bytes, buffered: only a handler function's result can stream.
//
// A result in response streaming mode (an io.Reader whose ContentType is
// StreamContentType, such as *events.LambdaFunctionURLStreamingResponse)
// is handed unread to the Gateway that invoked the function, which
// streams it; any other caller gets it read in full, prelude, separator and
// body, as the runtime would post it.
func InProcessInvoker(handler any) Invoker {
	if h, ok := handler.(lambda.Handler); ok {
		return singleEnvironmentInvoker(h)
	}
	type environment struct {
		lambda.Handler
		stream *io.Reader // the streamed result of the current invocation
	}
	var mu sync.Mutex
	var idle []environment
	return func(ctx context.Context, requestID string, event []byte) (out []byte, err error) {
		mu.Lock()
		var env environment
		if n := len(idle); n > 0 {
			env, idle = idle[n-1], idle[:n-1]
		} else {
			env.stream = new(io.Reader)
			env.Handler = lambda.NewHandler(captureStreams(handler, env.stream))
		}
		*env.stream = nil
		mu.Unlock()
		defer func() {
			if p := recover(); p != nil {
				// A panic on the handler's own goroutine: the function's
				// error, and the end of its execution environment.
				out, err = nil, panicError(p)
				return // a panicked environment is not reused
			}
			mu.Lock()
			idle = append(idle, env)
			mu.Unlock()
		}()
		ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: requestID, InvokedFunctionArn: functionARN})
		res, err := env.Invoke(ctx, event)
		if stream := *env.stream; stream != nil {
			*env.stream = nil
			if err != nil {
				closeReader(stream)
				return nil, err
			}
			if sink, ok := ctx.Value(streamSinkKey{}).(*streamSink); ok {
				sink.put(stream)
				return nil, nil
			}
			defer closeReader(stream)
			return io.ReadAll(stream)
		}
		// The handler's output buffer goes back to its pool for the next
		// invocation of this environment: copy it before releasing it.
		return bytes.Clone(res), err
	}
}

// singleEnvironmentInvoker invokes a lambda.Handler value: one instance, so
// one execution environment, which Lambda gives one invocation at a time. A
// handler aws-lambda-go's lambda.NewHandler made reuses its output buffer
// between invocations, so concurrent ones would race on it: invocations
// wait their turn, and the result is copied before the next may start. A
// panic on the handler's goroutine is the function's error (a CrashError);
// the instance cannot be replaced, so the next invocation reuses it.
func singleEnvironmentInvoker(h lambda.Handler) Invoker {
	var turn sync.Mutex
	return func(ctx context.Context, requestID string, event []byte) (out []byte, err error) {
		turn.Lock()
		defer turn.Unlock()
		defer func() {
			if p := recover(); p != nil {
				out, err = nil, panicError(p)
			}
		}()
		ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: requestID, InvokedFunctionArn: functionARN})
		res, err := h.Invoke(ctx, event)
		return bytes.Clone(res), err
	}
}

func closeReader(r io.Reader) {
	if c, ok := r.(io.Closer); ok {
		c.Close()
	}
}

var readerType = reflect.TypeFor[io.Reader]()

// captureStreams wraps a handler function so that a result in response
// streaming mode is put in *slot, unread, and aws-lambda-go gets a zero
// result instead: its Invoke reads a reader result in full before it
// returns, which would buffer the stream. The wrapper has the handler's
// own type, so aws-lambda-go decodes events for it as for the handler.
func captureStreams(handler any, slot *io.Reader) any {
	v := reflect.ValueOf(handler)
	if !v.IsValid() || v.Kind() != reflect.Func || v.IsNil() || v.Type().NumOut() != 2 {
		return handler
	}
	t := v.Type()
	out0 := t.Out(0)
	if out0.Kind() != reflect.Interface && !out0.Implements(readerType) {
		return handler
	}
	return reflect.MakeFunc(t, func(args []reflect.Value) []reflect.Value {
		var out []reflect.Value
		if t.IsVariadic() {
			out = v.CallSlice(args)
		} else {
			out = v.Call(args)
		}
		if r := streamOf(out[0]); r != nil {
			*slot = r
			out[0] = reflect.Zero(out0)
		}
		return out
	}).Interface()
}

// streamOf returns a handler's result when it is in response streaming
// mode, or nil.
func streamOf(v reflect.Value) io.Reader {
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
		if v.IsNil() {
			return nil
		}
	}
	x := v.Interface()
	r, ok := x.(io.Reader)
	ct, typed := x.(interface{ ContentType() string })
	if !ok || !typed || ct.ContentType() != StreamContentType {
		return nil
	}
	return r
}
