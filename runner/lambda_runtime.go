package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner/contract"
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
// RIE does for a payload over MaxLambdaPayload.
type ResponseTooLargeError struct {
	Size int64 // how many bytes the runtime had posted when it was refused
}

// Error names the size, the 413 and the limit, as AWS reports
// Function.ResponseSizeTooLarge.
func (e *ResponseTooLargeError) Error() string {
	return fmt.Sprintf("Function.ResponseSizeTooLarge: the runtime posted a response of at least %d bytes; POST /response answered 413 (limit %d bytes)", e.Size, MaxLambdaPayload)
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
	return serveRuntimeAPI(ln), nil
}

// serveRuntimeAPI serves the Runtime API on a listener; Addr is the
// listener's address.
func serveRuntimeAPI(ln net.Listener) *RuntimeAPI {
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
		deadline = time.Now().Add(LambdaTimeout)
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
			h.Set("Lambda-Runtime-Invoked-Function-Arn", lambdaFunctionARN)
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
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxLambdaPayload+1))
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
	if len(body) > MaxLambdaPayload {
		api.logCall(RuntimeCall{Method: r.Method, Path: r.URL.Path, RequestID: inv.id, Status: http.StatusRequestEntityTooLarge, Note: "response over the payload limit"})
		writeRuntimeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", fmt.Sprintf("Exceeded maximum allowed payload size (%d bytes).", MaxLambdaPayload))
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

// runtimeProcess is one execution environment of a Lambda function: an
// exec'd process, or a container (runner/container, through RuntimeProcess).
type runtimeProcess interface {
	// exited is closed once it has ended; output and exitStatus are
	// final from then on.
	exited() <-chan struct{}
	// exitStatus says how it ended, or "" while it runs.
	exitStatus() string
	// output is what it wrote so far.
	output() string
	// kill ends it at once (SIGKILL) and waits, briefly, for its end.
	kill()
}

func (p *process) exited() <-chan struct{} { return p.done }
func (p *process) output() string          { return p.logs.String() }

// lambdaRuntime is an adapter run as a Lambda function: the runtime
// process (or container), restarted when it exits as the Lambda service
// does with a new execution environment, and the Runtime API it talks to.
type lambdaRuntime struct {
	// launch starts a new runtime process (a cold start).
	launch    func() (runtimeProcess, error)
	api       *RuntimeAPI
	readiness time.Duration

	mu       sync.Mutex
	p        runtimeProcess
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
func (lr *lambdaRuntime) ensure() (runtimeProcess, error) {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	if lr.stopping {
		return nil, errors.New("the runtime is being stopped")
	}
	if lr.p != nil {
		select {
		case <-lr.p.exited():
			fmt.Fprintf(&lr.oldLogs, "%s%s--- the runtime process %s; the kit starts a new one (cold start) ---\n", lr.p.output(), lr.endNote, lr.p.exitStatus())
			lr.endNote = ""
			lr.p = nil
		default:
			return lr.p, nil
		}
	}
	if lr.starts >= maxRuntimeStarts {
		if lr.gaveUp == "" {
			lr.gaveUp = fmt.Sprintf("exited %d times; the kit stopped restarting it", lr.starts)
		}
		return nil, errors.New("the runtime process " + lr.gaveUp)
	}
	p, err := lr.launch()
	if err != nil {
		return nil, err
	}
	lr.starts++
	lr.p = p
	return p, nil
}

func (lr *lambdaRuntime) logs() string {
	lr.mu.Lock()
	s, p, note := lr.oldLogs.String(), lr.p, lr.endNote
	lr.mu.Unlock()
	// A container's output is fetched from the engine: not under lr.mu.
	if p != nil {
		s += p.output() + note
	}
	return s
}

func (lr *lambdaRuntime) exitStatus() string {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return lr.gaveUp
}

// invoke runs one invocation, starting a runtime process when none runs.
// A process that exits before taking the invocation is replaced, as the
// Lambda service replaces an execution environment; the invocation waits
// for the new one.
func (lr *lambdaRuntime) invoke(ctx context.Context, requestID string, event []byte) ([]byte, error) {
	p, err := lr.ensure()
	if err != nil {
		return nil, &FunctionError{Type: "Runtime.Unavailable", Message: err.Error()}
	}
	inv, err := lr.api.enqueue(ctx, requestID, event)
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
			lr.endTimedOut(requestID, owner)
		}
	})
	for {
		res, retry := lr.api.wait(ctx, inv, p.exited())
		if !retry {
			if res.stream == nil && inv.answered.Load() {
				timedOut.Stop()
			}
			out, err := res.deliver(ctx)
			return out, crashOf(p, err)
		}
		if p, err = lr.ensure(); err != nil {
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
func (lr *lambdaRuntime) endTimedOut(requestID string, owner runtimeProcess) {
	lr.mu.Lock()
	p := lr.p
	if p != owner {
		p = nil
	}
	if p != nil {
		select {
		case <-p.exited():
			p = nil // it ended on its own; its group may be gone
		default:
			if lr.stopping {
				p = nil
			} else {
				lr.endNote = fmt.Sprintf("--- invocation %s timed out; the kit ended this execution environment, as the Lambda service does ---\n", requestID)
			}
		}
	}
	lr.mu.Unlock()
	if p != nil {
		p.kill()
	}
}

func (lr *lambdaRuntime) stop() {
	lr.mu.Lock()
	lr.stopping = true
	p := lr.p
	lr.mu.Unlock()
	if p != nil {
		// The Lambda service ends an execution environment with SIGKILL
		// (SIGTERM only when extensions are registered).
		p.kill()
	}
	lr.api.Close()
}

// waitPolled waits until the runtime asks for its first invocation, the
// process exits, or the readiness timeout passes.
func (lr *lambdaRuntime) waitPolled(ctx context.Context, p runtimeProcess) error {
	t := time.NewTimer(lr.readiness)
	defer t.Stop()
	select {
	case <-lr.api.Polled():
		return nil
	case <-p.exited():
		msg := "the runtime process " + p.exitStatus() + " before it asked for an invocation (GET " + RuntimeAPIVersion + "/runtime/invocation/next)"
		if ie := lr.api.InitError(); ie != nil {
			msg += "; it posted /runtime/init/error: " + ie.Error()
		}
		return fmt.Errorf("%s; its output:\n%s", msg, tail(p.output(), 2000))
	case <-t.C:
		return fmt.Errorf("the runtime never asked for an invocation (GET %s/runtime/invocation/next on AWS_LAMBDA_RUNTIME_API=%s) within %s; its output:\n%s",
			RuntimeAPIVersion, lr.api.Addr, lr.readiness, tail(p.output(), 2000))
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RuntimeOf returns the Runtime API behind a Lambda host run as a process, or nil.
func RuntimeOf(h *Host) *RuntimeAPI {
	v, _ := lambdaRuntimes.Load(h)
	api, _ := v.(*RuntimeAPI)
	return api
}

var lambdaRuntimes sync.Map // *Host -> *RuntimeAPI

// StartLambdaRuntime runs an executable as a Lambda function of a shape:
// the kit serves the Runtime API, starts bin with AWS_LAMBDA_RUNTIME_API
// (and env) and puts the emulated gateway in front. The host's StartError
// says why the runtime never asked for an invocation within readiness.
// timeout is each invocation's deadline (LambdaTimeout when zero).
func StartLambdaRuntime(ctx context.Context, in *Instance, shape app.HostShape, bin string, args, env []string, readiness, timeout time.Duration) (*Host, error) {
	api, err := NewRuntimeAPI()
	if err != nil {
		return nil, err
	}
	work, err := kitTempDir("cwd")
	if err != nil {
		api.Close()
		return nil, err
	}
	// Removed after the runtime is stopped (stops run in reverse order).
	in.onStop(func(context.Context) error { return os.RemoveAll(work) })
	env = append(lambdaEnv(api.Addr, filepath.Dir(bin)), env...)
	launch := func() (runtimeProcess, error) { return startProcess(bin, work, args, env) }
	h := &Host{Shape: shape, Export: "runtime", WorkDir: work}
	return runLambdaRuntime(ctx, in, h, api, launch, readiness, timeout)
}

// lambdaEnv is the environment the Lambda service gives a runtime, with
// the Runtime API at addr and the function's code in taskRoot.
func lambdaEnv(addr, taskRoot string) []string {
	return []string{
		"AWS_LAMBDA_RUNTIME_API=" + addr,
		"AWS_LAMBDA_FUNCTION_NAME=adapter-conformance", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512", "AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/adapter-conformance", "AWS_LAMBDA_LOG_STREAM_NAME=conformance",
		"LAMBDA_TASK_ROOT=" + taskRoot, "_HANDLER=bootstrap",
	}
}

// runLambdaRuntime puts the emulated gateway in front of a Runtime API and
// the runtime processes launch starts, makes the first cold start and
// waits for the runtime's first poll. h has its Shape, Export and WorkDir
// set; the rest is filled here. Stopping the instance kills the runtime
// and closes the Runtime API and the gateway.
func runLambdaRuntime(ctx context.Context, in *Instance, h *Host, api *RuntimeAPI, launch func() (runtimeProcess, error), readiness, timeout time.Duration) (*Host, error) {
	lr := &lambdaRuntime{launch: launch, api: api, readiness: readiness}
	h.Faults, h.NextCalls, h.Logs, h.ExitStatus = &FaultLog{}, &atomic.Int64{}, lr.logs, lr.exitStatus
	g := NewLambdaGateway(h.Shape, lr.invoke, h.Faults)
	if timeout > 0 {
		g.Timeout = timeout
	}
	srv := httptest.NewUnstartedServer(g)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	h.URL = srv.URL
	lambdaGateways.Store(h, g)
	lambdaRuntimes.Store(h, api)
	in.onStop(func(context.Context) error {
		lr.stop()
		srv.CloseClientConnections()
		srv.Close()
		lambdaGateways.Delete(h)
		lambdaRuntimes.Delete(h)
		return nil
	})
	p, err := lr.ensure()
	if err != nil {
		return h, err
	}
	h.StartError = lr.waitPolled(ctx, p)
	return h, nil
}

// LambdaBinary is a Lambda adapter built as its own executable (a Go main
// package directory or a built executable): the kit asks it to --describe
// itself under the process contract, then runs it as a Lambda function of
// each Lambda shape it declares, against the kit's Runtime API. An
// adapter built on aws-lambda-go's lambda.Start needs nothing else.
func LambdaBinary(path string, opts ...Option) Target {
	t := &lambdaBinary{binaryTarget: binaryTarget{path: path, settings: defaultSettings()}}
	for _, o := range opts {
		o(&t.settings)
	}
	t.name = t.settings.name
	if t.name == "" {
		t.name = filepath.Base(filepath.Clean(path))
	}
	return t
}

type lambdaBinary struct {
	binaryTarget
	timeout time.Duration
}

func (t *lambdaBinary) Start(ctx context.Context, m *app.Manifest) (*Instance, error) {
	in := &Instance{Target: t.name, Mode: ModeBinary, Unsupported: map[string]string{}}
	bin, err := t.Executable(ctx)
	if err != nil {
		return in, err
	}
	return startLambdaBinary(ctx, in, bin, m, t.env, t.readiness, t.timeout)
}

// startLambdaBinary runs a described Lambda executable for a manifest.
func startLambdaBinary(ctx context.Context, in *Instance, bin string, m *app.Manifest, env []string, readiness, timeout time.Duration) (*Instance, error) {
	dir, err := exportApp(in, m, "")
	if err != nil {
		return in, err
	}
	desc, err := Describe(ctx, bin, dir, env)
	if err != nil {
		in.DescribeError = err
		return in, err
	}
	in.Declaration, in.Description = declarationOf(desc), desc
	shapes := DeclaredLambdaShapes(desc)
	if len(shapes) == 0 {
		return in, fmt.Errorf("%s declares no Lambda host shape (%s, %s or %s)", bin, app.ShapeLambdaV1, app.ShapeLambdaV2, app.ShapeFunctionURL)
	}
	return startLambdaRuntimes(ctx, in, shapes, bin, append([]string{contract.EnvApp + "=" + dir}, env...), readiness, timeout)
}

// startLambdaRuntimes runs the executable as a Lambda function once per
// declared shape, each against a Runtime API of its own.
func startLambdaRuntimes(ctx context.Context, in *Instance, shapes []app.HostShape, bin string, env []string, readiness, timeout time.Duration) (*Instance, error) {
	for _, shape := range shapes {
		h, err := StartLambdaRuntime(ctx, in, shape, bin, nil, env, readiness, timeout)
		if h != nil {
			in.Hosts = append(in.Hosts, h)
		}
		if err != nil {
			return in, err
		}
	}
	return in, nil
}

// DeclaredLambdaShapes are the Lambda host shapes a description declares,
// in its order: the kit runs the executable once for each, as a function
// behind that gateway, the way a deployment would put one function behind
// several integrations.
func DeclaredLambdaShapes(d *contract.Description) []app.HostShape {
	if d == nil || len(d.Calls) == 0 {
		return nil
	}
	var shapes []app.HostShape
	for _, s := range d.Calls[0].Shapes {
		if s.IsLambda() && !slices.Contains(shapes, s) {
			shapes = append(shapes, s)
		}
	}
	return shapes
}
