package lambdahost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/adapterconformance/adapter-conformance/app"
)

// Outcomes of an invocation, from the gateway's point of view.
const (
	// OutcomeOK: the envelope was valid and the gateway answered with it.
	OutcomeOK = "ok"
	// OutcomeMalformed: the gateway rejected the envelope with a 502
	// ("Malformed Lambda proxy response", B05).
	OutcomeMalformed = "malformed-response"
	// OutcomeResponseTooLarge: the Lambda service rejected a result over
	// MaxPayload (Function.ResponseSizeTooLarge) and the gateway
	// answered 502 (B36).
	OutcomeResponseTooLarge = "response-too-large"
	// OutcomeRequestTooLarge: the event was over MaxPayload; the
	// gateway answered 413 without invoking the function.
	OutcomeRequestTooLarge = "request-too-large"
	// OutcomeFunctionError: the function returned an error or panicked; 502.
	OutcomeFunctionError = "function-error"
	// OutcomeTimeout: the function did not answer within its timeout
	// (Gateway.Timeout).
	OutcomeTimeout = "timeout"
	// OutcomeBadRequest: the kit could not build an event for the request.
	OutcomeBadRequest = "bad-request"
	// OutcomeStreamCut: in response streaming mode, the gateway sent the
	// prelude's status and headers, but the body stream failed or ran past
	// the function's timeout before it ended.
	OutcomeStreamCut = "stream-cut"
)

// Gateway is an emulated API Gateway (REST or HTTP API) or Function URL
// in front of one function.
type Gateway struct {
	// Shape is the gateway emulated: REST (lambda-v1), HTTP API
	// (lambda-v2) or Function URL.
	Shape app.HostShape
	// Timeout is the function timeout of each invocation (the package's
	// Timeout when zero).
	Timeout time.Duration
	invoke  Invoker
	faults  FaultRecorder
	seq     atomic.Int64

	mu   sync.Mutex
	byID map[string][]*Invocation
	all  int
}

// NewGateway puts a function behind the gateway of a shape. Contract
// breaches it sees (a malformed envelope, a failing function) are added to
// faults, when not nil, so that every exchange's dump shows them (a nil
// *runner.FaultLog is not nil: pass nil itself for none).
func NewGateway(shape app.HostShape, invoke Invoker, faults FaultRecorder) *Gateway {
	return &Gateway{Shape: shape, invoke: invoke, faults: faults}
}

// ServeHTTP is the gateway's HTTP side: each request becomes one invocation.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	inv, wrote := g.roundTrip(r.Context(), r, EventOptions{}, w)
	if wrote {
		if inv.Outcome == OutcomeStreamCut {
			// A cut stream must look cut: no clean last chunk (B16).
			panic(http.ErrAbortHandler)
		}
		return // streamed as it came
	}
	for k, vs := range inv.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(inv.Status)
	w.Write(inv.Body)
}

// RoundTrip sends one request through the gateway: it builds the event,
// invokes the function and translates its envelope. The request body is
// read in full, and so is a streamed result. The invocation is recorded
// under the request's id.
func (g *Gateway) RoundTrip(ctx context.Context, r *http.Request, o EventOptions) *Invocation {
	inv, _ := g.roundTrip(ctx, r, o, nil)
	return inv
}

// roundTrip is RoundTrip; with w, a streamed result is written to w as it
// comes, and wrote says so.
func (g *Gateway) roundTrip(ctx context.Context, r *http.Request, o EventOptions, w http.ResponseWriter) (_ *Invocation, wrote bool) {
	id := r.Header.Get(RequestIDHeader)
	if id == "" {
		id = "gateway-" + strconv.FormatInt(g.seq.Add(1), 10)
	}
	inv := &Invocation{ID: id, Shape: g.Shape}
	defer g.record(inv)
	var body []byte
	if r.Body != nil {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, 2*MaxPayload))
		if err != nil {
			g.reject(inv, http.StatusBadRequest, OutcomeBadRequest, "reading the request body: "+err.Error())
			return inv, false
		}
	}
	ev, err := BuildEvent(g.Shape, r, body, id, o)
	if err != nil {
		g.reject(inv, http.StatusBadRequest, OutcomeBadRequest, err.Error())
		return inv, false
	}
	inv.Event = ev
	if len(ev) > MaxPayload {
		g.reject(inv, http.StatusRequestEntityTooLarge, OutcomeRequestTooLarge,
			fmt.Sprintf("the event is %d bytes, over the %d-byte Lambda payload limit", len(ev), MaxPayload))
		return inv, false
	}
	wrote = g.invokeWith(ctx, inv, w)
	return inv, wrote
}

// Invoke invokes the function with inv.Event and fills in the rest of inv:
// the raw result and what the gateway makes of it. A streamed result is
// read in full.
func (g *Gateway) Invoke(ctx context.Context, inv *Invocation) {
	g.invokeWith(ctx, inv, nil)
}

func (g *Gateway) invokeWith(ctx context.Context, inv *Invocation, w http.ResponseWriter) (wrote bool) {
	reqCtx := ctx
	timeout := g.Timeout
	if timeout <= 0 {
		timeout = Timeout
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	sink := &streamSink{}
	ctx = context.WithValue(ctx, streamSinkKey{}, sink)
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := g.invoke(ctx, inv.ID, inv.Event)
		done <- result{out, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		// An invoker that watches the deadline says what went wrong; give
		// it a moment to.
		why := fmt.Sprintf("the function did not answer within its %s timeout", timeout)
		select {
		case res = <-done:
			if res.err != nil {
				why += ": " + res.err.Error()
			}
		case <-time.After(time.Second):
		}
		if res.err != nil || res.out == nil {
			if stream := sink.take(); stream != nil {
				closeReader(stream) // the gateway has given up on it
			}
			status := http.StatusGatewayTimeout
			if g.Shape == app.ShapeFunctionURL {
				status = http.StatusBadGateway
			}
			inv.FunctionError = why
			g.reject(inv, status, OutcomeTimeout, why)
			return false
		}
	}
	var tooLarge *ResponseTooLargeError
	if errors.As(res.err, &tooLarge) {
		g.reject(inv, http.StatusBadGateway, OutcomeResponseTooLarge, tooLarge.Error()+"; the gateway answers 502")
		return false
	}
	if res.err != nil {
		inv.FunctionError = res.err.Error()
		if inv.Crashed = IsCrash(res.err); inv.Crashed {
			g.reject(inv, http.StatusBadGateway, OutcomeFunctionError, res.err.Error())
			return false
		}
		g.reject(inv, http.StatusBadGateway, OutcomeFunctionError, "the function failed: "+res.err.Error())
		return false
	}
	if stream := sink.take(); stream != nil {
		return g.stream(ctx, reqCtx, inv, stream, w)
	}
	inv.Response = res.out
	if len(res.out) > MaxPayload {
		g.reject(inv, http.StatusBadGateway, OutcomeResponseTooLarge,
			fmt.Sprintf("Function.ResponseSizeTooLarge: the response is %d bytes; the Lambda service rejects a payload over %d bytes, and the gateway answers 502", len(res.out), MaxPayload))
		return false
	}
	status, header, body, problem := TranslateResponse(g.Shape, res.out)
	if problem != "" {
		g.reject(inv, http.StatusBadGateway, OutcomeMalformed, "Malformed Lambda proxy response: "+problem)
		return false
	}
	inv.Outcome, inv.Status, inv.Header, inv.Body = OutcomeOK, status, header, body
	return false
}

// reject makes the gateway's own error response, as AWS words it.
func (g *Gateway) reject(inv *Invocation, status int, outcome, detail string) {
	inv.Outcome, inv.Detail, inv.Status = outcome, detail, status
	msg := "Internal Server Error"
	switch status {
	case http.StatusRequestEntityTooLarge:
		msg = "Request Too Long"
	case http.StatusGatewayTimeout:
		msg = "Endpoint request timed out"
	case http.StatusBadRequest:
		msg = "Bad Request"
	}
	inv.Header = http.Header{"Content-Type": {"application/json"}}
	inv.Body = []byte(`{"message":"` + msg + `"}`)
	if g.faults != nil {
		g.faults.Add(inv.ID, "LAMBDA gateway: "+outcome+": "+detail)
	}
}
