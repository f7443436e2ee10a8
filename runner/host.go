package runner

import (
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner/executable"
	"github.com/adapterconformance/adapter-conformance/runner/lambdahost"
)

// NextHeader marks a response written by the kit's "next" handler in
// middleware mode, so the suite can tell that the adapter passed the request on.
const NextHeader = "X-Conformance-Next"

// Host is one way into the adapter: a base URL served by one export or Start.
type Host struct {
	// Shape is how the kit drives this way in; it picks the specs run
	// through it.
	Shape  app.HostShape
	Export string // the export's name, or "start"
	URL    string // base URL, e.g. http://127.0.0.1:41234
	// IPv6URL is a second base URL into the same host, on the IPv6
	// loopback (http://[::1]:41235), for requests from an IPv6 peer
	// (DIFF-5); "" when the host has none: out of process, behind a Lambda
	// gateway, or on a machine without ::1.
	IPv6URL string
	// Peers are the addresses besides the kit's own that the adapter may
	// see its client's requests come from: a container engine forwards a
	// published port from its bridge's gateway (nil when there is none).
	Peers []string
	// Middleware is true when the export wraps a next handler.
	Middleware bool
	// Renders records what the App rendered for each request (in-process only;
	// nil when the App is out of reach).
	Renders *RenderLog
	// Faults records contract breaches the kit's host shim saw (a fetch
	// export that returned neither a response nor an error, a panic, ...).
	Faults *FaultLog
	// NextCalls counts requests the adapter passed to the next handler.
	NextCalls *atomic.Int64
	// Shutdown stops a start-shape host gracefully and returns what Start
	// returned (nil for other shapes).
	Shutdown func(ctx context.Context) error
	// Signalled, when not nil, is closed once Shutdown has told the
	// adapter to stop: for a container, once the engine has delivered
	// SIGTERM, which on a busy engine can come well after Shutdown was
	// called. What must happen once shutdown has begun (START-4) is timed
	// from it. nil: Shutdown tells the adapter at once (a process's
	// SIGTERM, Start's context).
	Signalled <-chan struct{}
	// StartError says why a start-shape host never became ready (START-2).
	StartError error
	// Logs returns what an out-of-process adapter has written so far (nil
	// in-process); ExitStatus says how it ended, or "" while it runs.
	Logs       func() string
	ExitStatus func() string
	// WorkDir is the working directory the kit gave an adapter process, or "".
	WorkDir string
	// LeftBehind lists the processes descended from an adapter process
	// that still run, each as "pid N: command line" (PROC-8); nil when the
	// kit cannot see the target's processes (in-process, containers).
	LeftBehind func() []string
	// Gateway is the emulated API Gateway or Function URL in front of a
	// Lambda host (LAMBDA-n: the LAMBDA specs read the invocations it
	// recorded, the events and envelopes, not only the HTTP result); nil
	// for the other shapes.
	Gateway *lambdahost.Gateway
	// Runtime is the Lambda Runtime API a Lambda host run out of process
	// (a binary, a container) polls, with the calls its runtime made; nil
	// in-process and for the other shapes.
	Runtime *lambdahost.RuntimeAPI
}

// Render is one App.Render call as the observer saw it.
type Render struct {
	Method     string      // the request's method, as the App got it
	URL        string      // app.RequestURL of the request the App got
	Header     http.Header // the request's header, as the App got it
	Status     int         // the status the App answered
	RespHeader http.Header // the header the App answered with
	body       *executable.CappedBuffer
	hadBody    bool
	complete   atomic.Bool // the adapter read the body to its end
}

// Body returns the response bytes the App produced, as far as the adapter read them.
func (r *Render) Body() []byte { return r.body.Bytes() }

// BodyTruncated reports whether the recorded body hit its cap.
func (r *Render) BodyTruncated() bool { return r.body.Truncated() }

// BodyComplete reports whether the adapter read the App's body to its end
// (true when the App returned no body).
func (r *Render) BodyComplete() bool {
	if !r.hadBody {
		return true
	}
	return r.complete.Load()
}

// renderBodyLimit is how much of a response body of the App a Render keeps.
const renderBodyLimit = 16 << 20

// RenderLog collects Render calls by request id.
type RenderLog struct {
	mu   sync.Mutex
	byID map[string][]*Render
	all  int
}

// Observer returns the app.RenderObserver that fills the log.
func (l *RenderLog) Observer() app.RenderObserver {
	return func(r *http.Request, resp *http.Response) {
		rec := &Render{
			Method: r.Method, URL: app.RequestURL(r), Header: r.Header.Clone(),
			Status: resp.StatusCode, RespHeader: resp.Header.Clone(),
			body:    executable.NewCappedBuffer(renderBodyLimit),
			hadBody: resp.Body != nil && resp.Body != http.NoBody,
		}
		resp.Body = &teeBody{ReadCloser: resp.Body, w: rec.body, done: &rec.complete, size: resp.ContentLength}
		id := r.Header.Get(lambdahost.RequestIDHeader)
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.byID == nil {
			l.byID = map[string][]*Render{}
		}
		l.byID[id] = append(l.byID[id], rec)
		l.all++
	}
}

// For returns the renders of one request id.
func (l *RenderLog) For(id string) []*Render {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*Render(nil), l.byID[id]...)
}

// Count is the number of renders seen so far.
func (l *RenderLog) Count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.all
}

type teeBody struct {
	io.ReadCloser
	w    *executable.CappedBuffer
	done *atomic.Bool
	// size is the body's length when known, for which the record makes
	// room at the first read (a large body is then not copied again each
	// time the record's buffer would double); 0 once that is done. An
	// adapter that never reads the body costs no room.
	size int64
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if n > 0 {
		if t.size > 0 {
			t.w.Grow(int(min(t.size, renderBodyLimit)))
			t.size = 0
		}
		t.w.Write(p[:n])
	}
	if err == io.EOF {
		t.done.Store(true)
	}
	return n, err
}

// FaultLog collects contract breaches seen by a host shim, by request id.
type FaultLog struct {
	mu   sync.Mutex
	byID map[string][]string
}

// Add records a fault for a request id.
func (f *FaultLog) Add(id, fault string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.byID == nil {
		f.byID = map[string][]string{}
	}
	f.byID[id] = append(f.byID[id], fault)
}

// For returns the faults of a request id.
func (f *FaultLog) For(id string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.byID[id]...)
}

// record is a contract.FetchHandler fault hook: EXPORT-2 breaches, by request id.
func (f *FaultLog) record(r *http.Request, what string) {
	f.Add(r.Header.Get(lambdahost.RequestIDHeader), "EXPORT-2: "+what)
}

// nextHandler is the host framework's next handler in middleware mode: it
// answers with a response the App could never produce.
func nextHandler(calls *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set(NextHeader, "1")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "answered by the host's next handler\n")
	})
}
