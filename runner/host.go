package runner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"hash"
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
	body       renderBody
	hadBody    bool
	complete   atomic.Bool // the adapter read the body to its end
}

// renderBody is what a Render keeps of the App's response body, as the
// adapter reads it: its first renderBodyKept bytes, for messages and for
// the page markers a spec reads, and the size and SHA-256 of all of it,
// to compare with what the client got. A whole copy of each body would
// cost a 5 MB copy for HTTP-15's body alone, fresh memory that the race
// detector makes dear (issue 19 item 6).
type renderBody struct {
	mu   sync.Mutex
	kept *executable.CappedBuffer
	sum  hash.Hash
	size int64
}

// renderBodyKept is how much of the App's response body a Render keeps.
const renderBodyKept = 64 << 10

func (b *renderBody) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.kept.Write(p)
	b.sum.Write(p)
	b.size += int64(len(p))
	return len(p), nil
}

// Body returns the beginning of the response bytes the App produced, as
// far as the adapter read them: all of them up to 64 KiB, no more.
func (r *Render) Body() []byte { return r.body.kept.Bytes() }

// BodySize is how many bytes of the App's response body the adapter read.
func (r *Render) BodySize() int64 {
	r.body.mu.Lock()
	defer r.body.mu.Unlock()
	return r.body.size
}

// SameBody reports whether b is the body the App produced, as far as the
// adapter read it: the same size and bytes, compared by SHA-256 past the
// bytes kept.
func (r *Render) SameBody(b []byte) bool {
	r.body.mu.Lock()
	defer r.body.mu.Unlock()
	if int64(len(b)) != r.body.size {
		return false
	}
	if r.body.size <= renderBodyKept {
		return bytes.Equal(b, r.body.kept.Bytes())
	}
	want := sha256.Sum256(b)
	return bytes.Equal(r.body.sum.Sum(nil), want[:])
}

// BodyComplete reports whether the adapter read the App's body to its end
// (true when the App returned no body).
func (r *Render) BodyComplete() bool {
	if !r.hadBody {
		return true
	}
	return r.complete.Load()
}

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
			body:    renderBody{kept: executable.NewCappedBuffer(renderBodyKept), sum: sha256.New()},
			hadBody: resp.Body != nil && resp.Body != http.NoBody,
		}
		resp.Body = &teeBody{ReadCloser: resp.Body, w: &rec.body, done: &rec.complete, size: resp.ContentLength}
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
	w    *renderBody
	done *atomic.Bool
	// size is the body's length when known, for which the record makes
	// room at the first read (the bytes it keeps then go into one piece);
	// 0 once that is done. An adapter that never reads the body costs no
	// room.
	size int64
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if n > 0 {
		if t.size > 0 {
			t.w.kept.Grow(int(min(t.size, renderBodyKept)))
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
