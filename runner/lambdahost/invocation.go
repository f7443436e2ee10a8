package lambdahost

import (
	"net/http"

	"github.com/adapterconformance/adapter-conformance/app"
)

// Invocation is one request through the emulated gateway: the event sent,
// the envelope the function returned, and the HTTP response the gateway made
// of it.
type Invocation struct {
	// ID is the kit's request id (RequestIDHeader), or one the gateway made.
	ID string
	// Shape is the gateway the request went through.
	Shape app.HostShape
	// Event is the JSON event the function was invoked with.
	Event []byte
	// Response is the raw payload the function returned (nil when it failed).
	Response []byte
	// FunctionError is the function's error or panic, when it failed.
	FunctionError string
	// Crashed: the function panicked, or its runtime process exited,
	// instead of answering (LAMBDA-18; see CrashError).
	Crashed bool
	// Outcome is one of the Outcome constants; Detail says more when the
	// gateway did not use the envelope.
	Outcome string
	Detail  string
	// Status, Header and Body are what the gateway answered.
	Status int
	Header http.Header
	Body   []byte
	// Streamed: the function answered in response streaming mode. Response
	// is then the JSON prelude, and Body the bytes after the 8 NUL bytes,
	// which the gateway sent to the client as they came, each read flushed.
	Streamed bool
}

// For returns the invocations of a request id, in order.
func (g *Gateway) For(id string) []*Invocation {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]*Invocation(nil), g.byID[id]...)
}

// Count is the number of invocations so far.
func (g *Gateway) Count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.all
}

func (g *Gateway) record(inv *Invocation) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.byID == nil {
		g.byID = map[string][]*Invocation{}
	}
	g.byID[inv.ID] = append(g.byID[inv.ID], inv)
	g.all++
}
