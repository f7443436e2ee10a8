package lambdahost

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The Lambda Runtime API (adapter-bugs-and-hosts.md 2a), served by the kit on
// 127.0.0.1 for a Lambda adapter that runs as its own executable: the kit
// starts it with AWS_LAMBDA_RUNTIME_API pointing here, so an adapter built on
// aws-lambda-go's lambda.Start (or any custom runtime) works unchanged. Each
// invocation the emulated gateway makes is queued for GET .../next and
// answered by POST .../{id}/response or .../{id}/error.

// RuntimeAPIVersion is the path prefix of the Runtime API.
const RuntimeAPIVersion = "/2018-06-01"

// FunctionError is what a runtime posted to /runtime/invocation/{id}/error
// (or how the invocation otherwise failed: a deadline, a runtime that exited).
type FunctionError struct {
	Type    string `json:"errorType"`    // the runtime's errorType, e.g. "Runtime.ExitError"
	Message string `json:"errorMessage"` // the runtime's errorMessage
}

// Error is "Type: Message", or Message alone when there is no type.
func (e *FunctionError) Error() string {
	if e.Type == "" {
		return e.Message
	}
	return e.Type + ": " + e.Message
}

// ResponseTooLargeError is a result the Runtime API refused with 413, as the
// RIE does for a payload over MaxPayload.
type ResponseTooLargeError struct {
	Size int64 // how many bytes the runtime had posted when it was refused
}

// Error names the size, the 413 and the limit, as AWS reports
// Function.ResponseSizeTooLarge.
func (e *ResponseTooLargeError) Error() string {
	return fmt.Sprintf("Function.ResponseSizeTooLarge: the runtime posted a response of at least %d bytes; POST /response answered 413 (limit %d bytes)", e.Size, MaxPayload)
}

// RuntimeCall is one call the runtime made to the Runtime API.
type RuntimeCall struct {
	Method, Path string // the HTTP method and path of the call
	RequestID    string // the invocation it was about, or "" (an init error, a stray call)
	Status       int    // what the kit answered
	Note         string // what the kit made of the call, in a few words
}

// RuntimeAPI is a fake Lambda Runtime API on a loopback listener.
type RuntimeAPI struct {
	// Addr is host:port, the value for AWS_LAMBDA_RUNTIME_API.
	Addr string

	srv    *http.Server
	ln     net.Listener
	queue  chan *runtimeInvocation
	closed chan struct{}
	once   sync.Once

	polled     chan struct{} // closed at the first GET /next
	polledOnce sync.Once
	nexts      atomic.Int64
	waiting    atomic.Int64

	mu       sync.Mutex
	inflight map[string]*runtimeInvocation
	answered map[string]bool
	calls    []RuntimeCall
	initErr  *FunctionError
}

type runtimeInvocation struct {
	id       string
	event    []byte
	deadline time.Time
	done     chan runtimeResult // buffered 1
	taken    atomic.Bool
	dropped  atomic.Bool
	// answered: the runtime's /response or /error post has ended (for a
	// streamed response, its body too).
	answered atomic.Bool
	// settled is closed once the kit has dealt with the invocation's
	// deadline: its execution environment ended when it timed out. A
	// stream post still running at the deadline is cut only after that,
	// so that its runtime, freed by the cut, cannot take another
	// invocation before it is killed.
	settled     chan struct{}
	settledOnce sync.Once
}

// settle closes settled, once.
func (inv *runtimeInvocation) settle() { inv.settledOnce.Do(func() { close(inv.settled) }) }

// runtimeResult is how an invocation ended: a buffered result (out), a
// result in response streaming mode still arriving (stream), or an error.
type runtimeResult struct {
	out    []byte
	stream *runtimeStream
	err    error
}

// deliver hands a result to the gateway that invoked the function: a
// stream unread, through the gateway's streamSink, so that the gateway
// streams it as it arrives; to any other caller, the stream read in full,
// as the buffered invoke API would return it.
func (res runtimeResult) deliver(ctx context.Context) ([]byte, error) {
	if res.stream == nil || res.err != nil {
		return res.out, res.err
	}
	if sink, ok := ctx.Value(streamSinkKey{}).(*streamSink); ok {
		sink.put(res.stream)
		return nil, nil
	}
	defer res.stream.Close()
	return io.ReadAll(res.stream)
}

// NewRuntimeAPI serves the Runtime API on 127.0.0.1 on a free port.
func NewRuntimeAPI() (*RuntimeAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening for the Lambda Runtime API: %w", err)
	}
	return ServeRuntimeAPI(ln), nil
}

// ServeRuntimeAPI serves the Runtime API on ln, which the caller chooses
// so that its runtimes can reach it (a container dials the engine's bridge
// gateway, not 127.0.0.1); Addr is the listener's address, which the
// caller may replace with the one its runtimes dial.
func ServeRuntimeAPI(ln net.Listener) *RuntimeAPI {
	api := &RuntimeAPI{
		Addr: ln.Addr().String(), ln: ln,
		queue: make(chan *runtimeInvocation, 1024), closed: make(chan struct{}), polled: make(chan struct{}),
		inflight: map[string]*runtimeInvocation{}, answered: map[string]bool{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+RuntimeAPIVersion+"/runtime/invocation/next", api.next)
	mux.HandleFunc("POST "+RuntimeAPIVersion+"/runtime/invocation/{id}/response", api.response)
	mux.HandleFunc("POST "+RuntimeAPIVersion+"/runtime/invocation/{id}/error", api.invocationError)
	mux.HandleFunc("POST "+RuntimeAPIVersion+"/runtime/init/error", api.initError)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		api.logCall(RuntimeCall{Method: r.Method, Path: r.URL.Path, Status: http.StatusNotFound, Note: "not a Runtime API call"})
		http.NotFound(w, r)
	})
	api.srv = &http.Server{Handler: mux, ErrorLog: log.New(io.Discard, "", 0)}
	go api.srv.Serve(ln)
	return api
}

// Close stops serving; pending long polls end.
func (api *RuntimeAPI) Close() error {
	api.once.Do(func() { close(api.closed) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := api.srv.Shutdown(ctx); err != nil {
		return api.srv.Close()
	}
	return nil
}

// Polled is closed once the runtime has asked for its first invocation: it
// finished its init.
func (api *RuntimeAPI) Polled() <-chan struct{} { return api.polled }

// Nexts is the number of GET /next calls so far.
func (api *RuntimeAPI) Nexts() int64 { return api.nexts.Load() }

// Waiting is the number of GET /next calls waiting for an invocation now:
// a runtime that keeps polling has one waiting between invocations.
func (api *RuntimeAPI) Waiting() int64 { return api.waiting.Load() }

// InitError is what the runtime posted to /runtime/init/error, or nil.
func (api *RuntimeAPI) InitError() *FunctionError {
	api.mu.Lock()
	defer api.mu.Unlock()
	return api.initErr
}

// Calls returns the calls the runtime made, in order.
func (api *RuntimeAPI) Calls() []RuntimeCall {
	api.mu.Lock()
	defer api.mu.Unlock()
	return append([]RuntimeCall(nil), api.calls...)
}

// CallsFor returns the calls the runtime made about one request id.
func (api *RuntimeAPI) CallsFor(id string) []RuntimeCall {
	api.mu.Lock()
	defer api.mu.Unlock()
	var out []RuntimeCall
	for _, c := range api.calls {
		if c.RequestID == id {
			out = append(out, c)
		}
	}
	return out
}

func (api *RuntimeAPI) logCall(c RuntimeCall) {
	api.mu.Lock()
	defer api.mu.Unlock()
	api.calls = append(api.calls, c)
}

// Invoke queues an invocation and waits for the runtime's answer, at most
// until ctx's deadline.
func (api *RuntimeAPI) Invoke(ctx context.Context, requestID string, event []byte) ([]byte, error) {
	inv, err := api.enqueue(ctx, requestID, event)
	if err != nil {
		return nil, err
	}
	res, _ := api.wait(ctx, inv, nil)
	return res.deliver(ctx)
}

func (api *RuntimeAPI) enqueue(ctx context.Context, requestID string, event []byte) (*runtimeInvocation, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(Timeout)
	}
	inv := &runtimeInvocation{id: requestID, event: event, deadline: deadline, done: make(chan runtimeResult, 1), settled: make(chan struct{})}
	select {
	case api.queue <- inv:
		return inv, nil
	default:
		return nil, &FunctionError{Type: "Kit.QueueFull", Message: "too many invocations are waiting for the runtime"}
	}
}

// wait waits for an invocation's answer. When exited (the runtime
// process's end) closes first and the runtime had not taken the
// invocation, it returns retry: the invocation stays queued for the next
// runtime process.
func (api *RuntimeAPI) wait(ctx context.Context, inv *runtimeInvocation, exited <-chan struct{}) (res runtimeResult, retry bool) {
	select {
	case res := <-inv.done:
		return res, false
	case <-exited:
		select {
		case res := <-inv.done:
			return res, false
		default:
		}
		if inv.taken.Load() {
			inv.dropped.Store(true)
			return runtimeResult{err: &FunctionError{Type: "Runtime.ExitError", Message: "the runtime process exited during the invocation, without posting /response or /error"}}, false
		}
		return runtimeResult{}, true
	case <-ctx.Done():
		inv.dropped.Store(true)
		if inv.taken.Load() {
			return runtimeResult{err: &FunctionError{Type: "Sandbox.Timedout", Message: "the runtime took the invocation (GET " + RuntimeAPIVersion + "/runtime/invocation/next) but posted neither /response nor /error before its deadline"}}, false
		}
		return runtimeResult{err: &FunctionError{Type: "Sandbox.Timedout", Message: fmt.Sprintf("the runtime never asked for the invocation: no GET %s/runtime/invocation/next before its deadline (%d GET /next calls so far)", RuntimeAPIVersion, api.Nexts())}}, false
	}
}

func (api *RuntimeAPI) next(w http.ResponseWriter, r *http.Request) {
	api.nexts.Add(1)
	api.polledOnce.Do(func() { close(api.polled) })
	api.waiting.Add(1)
	defer api.waiting.Add(-1)
	for {
		select {
		case inv := <-api.queue:
			if inv.dropped.Load() {
				continue // the gateway gave up on it before the runtime asked
			}
			inv.taken.Store(true)
			api.mu.Lock()
			api.inflight[inv.id] = inv
			api.mu.Unlock()
			api.logCall(RuntimeCall{Method: r.Method, Path: r.URL.Path, RequestID: inv.id, Status: http.StatusOK, Note: "invocation handed out"})
			h := w.Header()
			h.Set("Content-Type", "application/json")
			h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
			h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
			h.Set("Lambda-Runtime-Invoked-Function-Arn", functionARN)
			h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
			w.WriteHeader(http.StatusOK)
			w.Write(inv.event)
			return
		case <-r.Context().Done():
			return
		case <-api.closed:
			http.Error(w, "the kit is shutting down", http.StatusServiceUnavailable)
			return
		}
	}
}

// take finds the invocation a /response or /error post is about, or
// answers the post with the Runtime API's error.
func (api *RuntimeAPI) take(w http.ResponseWriter, r *http.Request) *runtimeInvocation {
	id := r.PathValue("id")
	api.mu.Lock()
	inv, ok := api.inflight[id]
	delete(api.inflight, id)
	again := api.answered[id]
	if ok {
		api.answered[id] = true
	}
	api.mu.Unlock()
	if ok {
		return inv
	}
	status, typ, msg := http.StatusBadRequest, "InvalidRequestID", "no invocation with this request id is in progress"
	if again {
		status, typ, msg = http.StatusForbidden, "InvalidStateTransition", "the invocation was already answered"
	}
	api.logCall(RuntimeCall{Method: r.Method, Path: r.URL.Path, RequestID: id, Status: status, Note: msg})
	writeRuntimeError(w, status, typ, msg)
	return nil
}

func writeRuntimeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(FunctionError{Type: typ, Message: msg})
}

func writeAccepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"status":"OK"}`)
}

func (api *RuntimeAPI) response(w http.ResponseWriter, r *http.Request) {
	streaming, badMode := responseMode(r)
	if badMode != "" {
		// Refused before the invocation is taken, as the RIE does: the
		// runtime may post again with a valid mode.
		api.logCall(RuntimeCall{Method: r.Method, Path: r.URL.Path, RequestID: r.PathValue("id"), Status: http.StatusBadRequest, Note: badMode})
		writeRuntimeError(w, http.StatusBadRequest, "InvalidResponseModeHeader", badMode)
		return
	}
	inv := api.take(w, r)
	if inv == nil {
		return
	}
	if streaming {
		api.streamResponse(w, r, inv)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayload+1))
	if err != nil {
		api.logCall(RuntimeCall{Method: r.Method, Path: r.URL.Path, RequestID: inv.id, Status: http.StatusBadRequest, Note: "truncated body: " + err.Error()})
		writeRuntimeError(w, http.StatusBadRequest, "InvalidRequest", "reading the response body: "+err.Error())
		inv.answered.Store(true)
		inv.done <- runtimeResult{err: &FunctionError{Type: "Runtime.TruncatedResponse", Message: err.Error()}}
		return
	}
	// Answered once the body is in, whatever the Runtime API says to it:
	// the deadline's end of the execution environment does not apply.
	inv.answered.Store(true)
	if len(body) > MaxPayload {
		api.logCall(RuntimeCall{Method: r.Method, Path: r.URL.Path, RequestID: inv.id, Status: http.StatusRequestEntityTooLarge, Note: "response over the payload limit"})
		writeRuntimeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", fmt.Sprintf("Exceeded maximum allowed payload size (%d bytes).", MaxPayload))
		inv.done <- runtimeResult{err: &ResponseTooLargeError{Size: int64(len(body))}}
		return
	}
	if fe := trailerError(r.Trailer); fe != nil {
		// A chunked buffered post can fail in its trailers as a stream can.
		api.logCall(RuntimeCall{Method: r.Method, Path: r.URL.Path, RequestID: inv.id, Status: http.StatusAccepted, Note: "failed (trailers): " + fe.Error()})
		writeAccepted(w)
		inv.done <- runtimeResult{err: fe}
		return
	}
	api.logCall(RuntimeCall{Method: r.Method, Path: r.URL.Path, RequestID: inv.id, Status: http.StatusAccepted, Note: strconv.Itoa(len(body)) + " bytes"})
	writeAccepted(w)
	inv.done <- runtimeResult{out: body}
}

func (api *RuntimeAPI) invocationError(w http.ResponseWriter, r *http.Request) {
	inv := api.take(w, r)
	if inv == nil {
		return
	}
	fe := readFunctionError(r)
	api.logCall(RuntimeCall{Method: r.Method, Path: r.URL.Path, RequestID: inv.id, Status: http.StatusAccepted, Note: fe.Error()})
	writeAccepted(w)
	inv.answered.Store(true)
	inv.done <- runtimeResult{err: fe}
}

func (api *RuntimeAPI) initError(w http.ResponseWriter, r *http.Request) {
	fe := readFunctionError(r)
	api.mu.Lock()
	api.initErr = fe
	api.mu.Unlock()
	api.logCall(RuntimeCall{Method: r.Method, Path: r.URL.Path, Status: http.StatusAccepted, Note: fe.Error()})
	writeAccepted(w)
}

func readFunctionError(r *http.Request) *FunctionError {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	fe := &FunctionError{}
	if json.Unmarshal(body, fe) != nil || (fe.Message == "" && fe.Type == "") {
		fe.Message = strings.TrimSpace(string(body))
	}
	if fe.Type == "" {
		fe.Type = r.Header.Get("Lambda-Runtime-Function-Error-Type")
	}
	return fe
}
