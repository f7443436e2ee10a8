package runner

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/adapterconformance/adapter-conformance/app"
)

// The Lambda host: an export that is a Lambda handler is put behind an
// emulated gateway (API Gateway REST with payload v1, HTTP API with payload
// v2, or a Function URL). The gateway turns each HTTP request into the event
// that gateway sends, invokes the function, and turns the returned envelope
// into the HTTP response that gateway would send, with the gateway's rules:
// what it drops, what it joins, what it rejects (adapter-bugs-and-hosts.md
// Part 2). Each invocation is recorded by request id, so the LAMBDA specs can
// check the envelope itself and not only the HTTP result.

// MaxLambdaPayload is the Lambda service's limit on a synchronous
// invocation's request and response payloads: 6 MiB plus 100 bytes, the RIE's
// MaxPayloadSize and the 6291556 bytes of AWS's own error message.
const MaxLambdaPayload = 6*1024*1024 + 100

// LambdaTimeout is the function timeout the emulator gives each invocation.
const LambdaTimeout = 10 * time.Second

// The values the emulated gateway puts where AWS puts account data.
const (
	lambdaAccountID   = "123456789012"
	lambdaAPIID       = "conformance"
	lambdaFunctionARN = "arn:aws:lambda:us-east-1:123456789012:function:adapter-conformance"
	// DefaultStage is the stage of an HTTP API that adds no path prefix.
	DefaultStage = "$default"
	// DefaultRESTStage is the stage of the emulated REST API: a REST API has
	// no $default stage, every deployment is to a named one (the name of the
	// voker capture's stage).
	DefaultRESTStage = "live"
)

// LambdaInvoker invokes the function once with an event and returns the raw
// payload it answered with, or the error it reported (a returned error, a
// panic, an /error post out of process).
type LambdaInvoker func(ctx context.Context, requestID string, event []byte) ([]byte, error)

// Outcomes of an invocation, from the gateway's point of view.
const (
	// OutcomeOK: the envelope was valid and the gateway answered with it.
	OutcomeOK = "ok"
	// OutcomeMalformed: the gateway rejected the envelope with a 502
	// ("Malformed Lambda proxy response", B05).
	OutcomeMalformed = "malformed-response"
	// OutcomeResponseTooLarge: the Lambda service rejected a result over
	// MaxLambdaPayload (Function.ResponseSizeTooLarge) and the gateway
	// answered 502 (B36).
	OutcomeResponseTooLarge = "response-too-large"
	// OutcomeRequestTooLarge: the event was over MaxLambdaPayload; the
	// gateway answered 413 without invoking the function.
	OutcomeRequestTooLarge = "request-too-large"
	// OutcomeFunctionError: the function returned an error or panicked; 502.
	OutcomeFunctionError = "function-error"
	// OutcomeTimeout: the function did not answer within LambdaTimeout.
	OutcomeTimeout = "timeout"
	// OutcomeBadRequest: the kit could not build an event for the request.
	OutcomeBadRequest = "bad-request"
	// OutcomeStreamCut: in response streaming mode, the gateway sent the
	// prelude's status and headers, but the body stream failed or ran past
	// the function's timeout before it ended.
	OutcomeStreamCut = "stream-cut"
)

// LambdaStreamContentType is the content type of a result in response
// streaming mode (Function URL InvokeMode RESPONSE_STREAM, API Gateway
// STREAM): a JSON prelude {statusCode,headers,cookies}, 8 NUL bytes, then
// the raw body (aws-lambda-go's LambdaFunctionURLStreamingResponse).
const LambdaStreamContentType = "application/vnd.awslambda.http-integration-response"

// lambdaStreamSeparator ends the prelude of a streamed result.
var lambdaStreamSeparator = make([]byte, 8)

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

// EventOptions shape the event the gateway builds for a request.
type EventOptions struct {
	// Stage is the API stage. On an HTTP API (lambda-v2), "" or DefaultStage
	// adds no path prefix and any other stage is prefixed to rawPath (B47;
	// aws-gateway-facts.md: aws-lambda-rust-runtime#668). A REST API
	// (lambda-v1) always has a named stage ("" is DefaultRESTStage); on its
	// execute-api host the stage is in requestContext.path only, never in
	// path (aws-gateway-facts.md: localstack's AWS-validated snapshot, the
	// voker capture). Function URLs have no stage and ignore it.
	Stage string
	// CustomDomain, for REST (lambda-v1) events, sends the event as a custom
	// domain with a base-path mapping does: domainName is CustomDomain, path
	// is BasePath followed by the request path, and requestContext.path
	// equals path (aws-gateway-facts.md: GREsau's gist). Other shapes ignore
	// both.
	CustomDomain string
	// BasePath is the base-path mapping of CustomDomain (lambda-v1 only).
	BasePath string
	// SourceIP is the caller's address the gateway reports; by default the
	// request's peer address.
	SourceIP string
	// Proto is the scheme the gateway reports in X-Forwarded-Proto, which
	// every gateway sets itself, replacing the client's. By default the
	// emulator reports "https", as AWS does (its endpoints are HTTPS only;
	// voker capture), although it listens on plain HTTP: an adapter that
	// takes the scheme for granted as https is right on AWS and must not
	// fail here. X-Forwarded-Port is the Host's port, or the scheme's
	// default.
	Proto string
	// Edit, when set, changes the event (as decoded JSON) before it is sent,
	// for events no HTTP request produces (cookies[] next to a cookie header).
	Edit func(event map[string]any)
}

// LambdaGateway is an emulated API Gateway (REST or HTTP API) or Function URL
// in front of one function.
type LambdaGateway struct {
	// Shape is the gateway emulated: REST (lambda-v1), HTTP API
	// (lambda-v2) or Function URL.
	Shape app.HostShape
	// Timeout is the function timeout of each invocation (LambdaTimeout
	// when zero).
	Timeout time.Duration
	invoke  LambdaInvoker
	faults  *FaultLog
	seq     atomic.Int64

	mu   sync.Mutex
	byID map[string][]*Invocation
	all  int
}

// NewLambdaGateway puts a function behind the gateway of a shape. Contract
// breaches it sees (a malformed envelope, a failing function) are added to
// faults, when non-nil, so that every exchange's dump shows them.
func NewLambdaGateway(shape app.HostShape, invoke LambdaInvoker, faults *FaultLog) *LambdaGateway {
	return &LambdaGateway{Shape: shape, invoke: invoke, faults: faults}
}

// For returns the invocations of a request id, in order.
func (g *LambdaGateway) For(id string) []*Invocation {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]*Invocation(nil), g.byID[id]...)
}

// Count is the number of invocations so far.
func (g *LambdaGateway) Count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.all
}

func (g *LambdaGateway) record(inv *Invocation) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.byID == nil {
		g.byID = map[string][]*Invocation{}
	}
	g.byID[inv.ID] = append(g.byID[inv.ID], inv)
	g.all++
}

// ServeHTTP is the gateway's HTTP side: each request becomes one invocation.
func (g *LambdaGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
func (g *LambdaGateway) RoundTrip(ctx context.Context, r *http.Request, o EventOptions) *Invocation {
	inv, _ := g.roundTrip(ctx, r, o, nil)
	return inv
}

// roundTrip is RoundTrip; with w, a streamed result is written to w as it
// comes, and wrote says so.
func (g *LambdaGateway) roundTrip(ctx context.Context, r *http.Request, o EventOptions, w http.ResponseWriter) (_ *Invocation, wrote bool) {
	id := r.Header.Get(RequestIDHeader)
	if id == "" {
		id = "gateway-" + strconv.FormatInt(g.seq.Add(1), 10)
	}
	inv := &Invocation{ID: id, Shape: g.Shape}
	defer g.record(inv)
	var body []byte
	if r.Body != nil {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, 2*MaxLambdaPayload))
		if err != nil {
			g.reject(inv, http.StatusBadRequest, OutcomeBadRequest, "reading the request body: "+err.Error())
			return inv, false
		}
	}
	ev, err := BuildLambdaEvent(g.Shape, r, body, id, o)
	if err != nil {
		g.reject(inv, http.StatusBadRequest, OutcomeBadRequest, err.Error())
		return inv, false
	}
	inv.Event = ev
	if len(ev) > MaxLambdaPayload {
		g.reject(inv, http.StatusRequestEntityTooLarge, OutcomeRequestTooLarge,
			fmt.Sprintf("the event is %d bytes, over the %d-byte Lambda payload limit", len(ev), MaxLambdaPayload))
		return inv, false
	}
	wrote = g.invokeWith(ctx, inv, w)
	return inv, wrote
}

// Invoke invokes the function with inv.Event and fills in the rest of inv:
// the raw result and what the gateway makes of it. A streamed result is
// read in full.
func (g *LambdaGateway) Invoke(ctx context.Context, inv *Invocation) {
	g.invokeWith(ctx, inv, nil)
}

func (g *LambdaGateway) invokeWith(ctx context.Context, inv *Invocation, w http.ResponseWriter) (wrote bool) {
	reqCtx := ctx
	timeout := g.Timeout
	if timeout <= 0 {
		timeout = LambdaTimeout
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
	if len(res.out) > MaxLambdaPayload {
		g.reject(inv, http.StatusBadGateway, OutcomeResponseTooLarge,
			fmt.Sprintf("Function.ResponseSizeTooLarge: the response is %d bytes; the Lambda service rejects a payload over %d bytes, and the gateway answers 502", len(res.out), MaxLambdaPayload))
		return false
	}
	status, header, body, problem := TranslateLambdaResponse(g.Shape, res.out)
	if problem != "" {
		g.reject(inv, http.StatusBadGateway, OutcomeMalformed, "Malformed Lambda proxy response: "+problem)
		return false
	}
	inv.Outcome, inv.Status, inv.Header, inv.Body = OutcomeOK, status, header, body
	return false
}

// streamSink is where an in-process invoker leaves a result in response
// streaming mode, unread, for the gateway that invoked it to stream.
type streamSink struct {
	mu sync.Mutex
	r  io.Reader
}

type streamSinkKey struct{}

func (s *streamSink) put(r io.Reader) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.r = r
}

func (s *streamSink) take() io.Reader {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.r
	s.r = nil
	return r
}

// maxStreamRecord is how much of a streamed body an invocation records:
// all of it, up to the streaming limit.
const maxStreamRecord = MaxLambdaStreamResponse

// stream is the gateway's side of response streaming mode: it reads the
// JSON prelude up to the 8 NUL bytes, answers with its status, headers and
// cookies (each a Set-Cookie line), then sends the body as it comes,
// flushing after every read, so that the client gets the first chunk before
// the function has produced the last. Without w the body is read in full.
// The stream is closed when it ends, at the function's timeout (ctx) and
// when the client leaves (reqCtx).
func (g *LambdaGateway) stream(ctx, reqCtx context.Context, inv *Invocation, stream io.Reader, w http.ResponseWriter) (wrote bool) {
	inv.Streamed = true
	var closeOnce sync.Once
	closeStream := func() {
		closeOnce.Do(func() {
			if c, ok := stream.(io.Closer); ok {
				c.Close()
			}
		})
	}
	defer closeStream()
	stopTimeout := context.AfterFunc(ctx, closeStream)
	defer stopTimeout()
	stopClient := context.AfterFunc(reqCtx, closeStream)
	defer stopClient()

	// The prelude: JSON, which cannot hold a NUL byte, so the first NUL
	// byte is where the separator begins.
	var head []byte
	buf := make([]byte, 32*1024)
	var rest []byte
	for {
		n, err := stream.Read(buf)
		head = append(head, buf[:n]...)
		if i := bytes.Index(head, lambdaStreamSeparator); i >= 0 {
			head, rest = head[:i], bytes.Clone(head[i+len(lambdaStreamSeparator):])
			break
		}
		if len(head) > MaxLambdaPayload {
			g.reject(inv, http.StatusBadGateway, OutcomeMalformed, fmt.Sprintf("Malformed Lambda proxy response: the streamed prelude has no 8 NUL bytes in its first %d bytes", MaxLambdaPayload))
			return false
		}
		if err != nil {
			inv.Response = head
			why := "the stream ended before the 8 NUL bytes that end its JSON prelude"
			if err != io.EOF {
				why = "reading the stream's prelude: " + err.Error()
			}
			g.reject(inv, http.StatusBadGateway, OutcomeMalformed, "Malformed Lambda proxy response: "+why)
			return false
		}
	}
	inv.Response = head
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(head, &fields); err != nil || fields == nil {
		g.reject(inv, http.StatusBadGateway, OutcomeMalformed, "Malformed Lambda proxy response: the streamed prelude is not a JSON object")
		return false
	}
	if _, ok := fields["statusCode"]; !ok {
		g.reject(inv, http.StatusBadGateway, OutcomeMalformed, "Malformed Lambda proxy response: the streamed prelude has no statusCode")
		return false
	}
	status, header, _, problem := TranslateLambdaResponse(g.Shape, head)
	if problem != "" {
		g.reject(inv, http.StatusBadGateway, OutcomeMalformed, "Malformed Lambda proxy response: "+problem)
		return false
	}
	inv.Outcome, inv.Status, inv.Header = OutcomeOK, status, header
	// The streaming limit counts the whole stream, prelude and separator
	// included, as the Runtime API counts its post.
	total := len(head) + len(lambdaStreamSeparator)
	record := func(b []byte) {
		total += len(b)
		if room := maxStreamRecord - len(inv.Body); room > 0 {
			inv.Body = append(inv.Body, b[:min(len(b), room)]...)
		}
	}
	overLimit := fmt.Errorf("the response passed the %d-byte limit of response streaming", MaxLambdaStreamResponse)
	// within cuts b to what the limit still allows, and says whether it
	// had to.
	within := func(b []byte) ([]byte, bool) {
		if room := MaxLambdaStreamResponse - total; len(b) > room {
			return b[:max(room, 0)], false
		}
		return b, true
	}
	var rc *http.ResponseController
	send := func(b []byte) error {
		record(b)
		if w == nil || len(b) == 0 {
			return nil
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		return rc.Flush()
	}
	if w != nil {
		for k, vs := range header {
			w.Header()[k] = vs
		}
		w.WriteHeader(status)
		rc = http.NewResponseController(w)
		if err := rc.Flush(); err != nil {
			return true
		}
	}
	chunk, err := rest, error(nil)
	for {
		// Checked before anything is sent: not a byte past the limit
		// reaches the client, even in a read that also ends the stream.
		part, ok := within(chunk)
		if werr := send(part); werr != nil {
			return w != nil // the client left
		}
		if !ok {
			err = overLimit
		}
		if err == io.EOF {
			return w != nil
		}
		if err != nil {
			why := "the body stream failed: " + err.Error()
			var fe *FunctionError
			switch {
			case ctx.Err() != nil || errors.Is(err, errStreamDeadline):
				// Cut by the timeout, whatever the read then saw.
				why = "the body stream did not end within the function's timeout"
			case errors.As(err, &fe):
				inv.FunctionError = fe.Error()
			}
			inv.Outcome, inv.Detail = OutcomeStreamCut, why
			if g.faults != nil {
				g.faults.Add(inv.ID, "LAMBDA gateway: "+OutcomeStreamCut+": "+why)
			}
			return w != nil
		}
		n, rerr := stream.Read(buf)
		chunk, err = buf[:n], rerr
	}
}

// reject makes the gateway's own error response, as AWS words it.
func (g *LambdaGateway) reject(inv *Invocation, status int, outcome, detail string) {
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

// BuildLambdaEvent turns an HTTP request into the JSON event the gateway of
// the shape sends, as aws-gateway-facts.md records AWS doing it (each rule
// below names its source there):
//   - REST (lambda-v1): path still encoded and without the stage, its
//     leading slashes collapsed to one; requestContext.path is
//     /{stage} followed by the path as sent; pathParameters.proxy encoded,
//     without a trailing slash (localstack snapshot, voker capture). On a
//     custom domain, path and requestContext.path are both the base-path
//     mapping followed by the path (GREsau's gist).
//   - HTTP API (lambda-v2): rawPath and requestContext.http.path
//     percent-decoded (voker capture), prefixed with a named stage
//     (aws-lambda-rust-runtime#668).
//   - Function URL: rawPath as sent, requestContext.http.path decoded; the
//     cookie header kept in headers beside cookies[] (voker capture).
//   - Query parameters decoded, "+" as a space, empty values kept, repeated
//     keys joined with "," (v2) or last-value-wins beside the multi-value map
//     (v1); rawQueryString as sent (voker, localstack).
//   - Repeated request headers joined with a plain "," (v2, Function URL),
//     or last-value-wins beside multiValueHeaders (v1) (voker).
func BuildLambdaEvent(shape app.HostShape, r *http.Request, body []byte, requestID string, o EventOptions) ([]byte, error) {
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	if !strings.HasPrefix(uri, "/") {
		return nil, fmt.Errorf("the gateway only takes origin-form request targets, not %q", uri)
	}
	rawPath, rawQuery, _ := strings.Cut(uri, "?")
	decodedPath := rawPath
	if p, err := url.PathUnescape(rawPath); err == nil {
		decodedPath = p
	}
	stage := o.Stage
	switch {
	case stage == "" && shape == app.ShapeLambdaV1:
		stage = DefaultRESTStage
	case stage == "":
		stage = DefaultStage
	}
	stagePrefix := ""
	if stage != DefaultStage {
		stagePrefix = "/" + stage
	}
	sourceIP := o.SourceIP
	if sourceIP == "" {
		sourceIP = r.RemoteAddr
		if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			sourceIP = h
		}
	}
	bodyField, isBase64 := EncodeLambdaBody(r.Header.Get("Content-Type"), body)
	now := time.Now()
	host := r.Host
	prefix, _, _ := strings.Cut(host, ".")
	userAgent := r.Header.Get("User-Agent")
	// The gateway terminates the client's connection and says how it came:
	// X-Forwarded-Proto and X-Forwarded-Port replace the client's own.
	proto := o.Proto
	if proto == "" {
		proto = "https"
	}
	port := "80"
	if proto == "https" {
		port = "443"
	}
	if _, p, err := net.SplitHostPort(host); err == nil && p != "" {
		port = p
	}
	// The gateway is the client's peer: it appends it to X-Forwarded-For.
	xff := sourceIP
	if prev := r.Header.Values("X-Forwarded-For"); len(prev) > 0 {
		xff = strings.Join(prev, ", ") + ", " + sourceIP
	}

	var ev any
	switch shape {
	case app.ShapeLambdaV1:
		headers := map[string]string{}
		multi := map[string][]string{}
		for k, vs := range r.Header {
			if k == "X-Forwarded-For" || k == "X-Forwarded-Proto" || k == "X-Forwarded-Port" {
				continue
			}
			headers[k] = vs[len(vs)-1]
			multi[k] = append([]string(nil), vs...)
		}
		headers["Host"], multi["Host"] = host, []string{host}
		headers["X-Forwarded-For"], multi["X-Forwarded-For"] = xff, []string{xff}
		headers["X-Forwarded-Proto"], multi["X-Forwarded-Proto"] = proto, []string{proto}
		headers["X-Forwarded-Port"], multi["X-Forwarded-Port"] = port, []string{port}
		var single map[string]string
		mq := queryPairs(rawQuery)
		var multiQ map[string][]string
		if len(mq.keys) > 0 {
			single, multiQ = map[string]string{}, map[string][]string{}
			for _, k := range mq.keys {
				vs := mq.values[k]
				single[k] = vs[len(vs)-1]
				multiQ[k] = vs
			}
		}
		// A leading "//" collapses in path but stays in requestContext.path;
		// one inside the path is kept (localstack snapshot).
		path := "/" + strings.TrimLeft(rawPath, "/")
		contextPath := stagePrefix + rawPath
		domain := host
		if o.CustomDomain != "" {
			domain = o.CustomDomain
			prefix, _, _ = strings.Cut(domain, ".")
			path = o.BasePath + path
			contextPath = path
		}
		var pathParams map[string]string
		if p := strings.TrimSuffix(strings.TrimPrefix(path, "/"), "/"); p != "" {
			pathParams = map[string]string{"proxy": p}
		}
		ev = events.APIGatewayProxyRequest{
			Resource: "/{proxy+}", Path: path, HTTPMethod: r.Method,
			Headers: headers, MultiValueHeaders: multi,
			QueryStringParameters: single, MultiValueQueryStringParameters: multiQ,
			PathParameters: pathParams,
			RequestContext: events.APIGatewayProxyRequestContext{
				AccountID: lambdaAccountID, ResourceID: "proxy", Stage: stage,
				DomainName: domain, DomainPrefix: prefix, RequestID: requestID, Protocol: r.Proto,
				Identity:     events.APIGatewayRequestIdentity{SourceIP: sourceIP, UserAgent: userAgent},
				ResourcePath: "/{proxy+}", Path: contextPath, HTTPMethod: r.Method,
				RequestTime: now.UTC().Format("02/Jan/2006:15:04:05 -0700"), RequestTimeEpoch: now.UnixMilli(),
				APIID: lambdaAPIID,
			},
			Body: bodyField, IsBase64Encoded: isBase64,
		}
	case app.ShapeLambdaV2, app.ShapeFunctionURL:
		headers := map[string]string{}
		var cookies []string
		for k, vs := range r.Header {
			switch k {
			case "Cookie":
				// The Cookie header is split into cookies[], one element a
				// cookie. An HTTP API drops the header; a Function URL keeps
				// it too (voker capture). How several Cookie lines are
				// joined is unproven: "; ", as a cookie-string is.
				for _, v := range vs {
					for c := range strings.SplitSeq(v, ";") {
						if c = strings.TrimSpace(c); c != "" {
							cookies = append(cookies, c)
						}
					}
				}
				if shape == app.ShapeFunctionURL {
					headers["cookie"] = strings.Join(vs, "; ")
				}
				continue
			case "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Port":
				continue
			}
			// Lowercase names; duplicates joined with a comma (B11).
			headers[strings.ToLower(k)] = strings.Join(vs, ",")
		}
		headers["host"] = host
		headers["x-forwarded-for"] = xff
		headers["x-forwarded-proto"] = proto
		headers["x-forwarded-port"] = port
		var params map[string]string
		if q := queryPairs(rawQuery); len(q.keys) > 0 {
			params = map[string]string{}
			for _, k := range q.keys {
				params[k] = strings.Join(q.values[k], ",")
			}
		}
		// Both shapes give requestContext.http.path decoded; an HTTP API
		// decodes rawPath too, and prefixes a named stage to both.
		httpDesc := struct{ Method, Path, Protocol, SourceIP, UserAgent string }{r.Method, decodedPath, r.Proto, sourceIP, userAgent}
		if shape == app.ShapeLambdaV2 {
			httpDesc.Path = stagePrefix + decodedPath
			ev = events.APIGatewayV2HTTPRequest{
				Version: "2.0", RouteKey: "$default", RawPath: stagePrefix + decodedPath, RawQueryString: rawQuery,
				Cookies: cookies, Headers: headers, QueryStringParameters: params,
				RequestContext: events.APIGatewayV2HTTPRequestContext{
					RouteKey: "$default", AccountID: lambdaAccountID, Stage: stage, RequestID: requestID,
					APIID: lambdaAPIID, DomainName: host, DomainPrefix: prefix,
					Time: now.UTC().Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: now.UnixMilli(),
					HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription(httpDesc),
				},
				Body: bodyField, IsBase64Encoded: isBase64,
			}
		} else {
			ev = events.LambdaFunctionURLRequest{
				Version: "2.0", RawPath: rawPath, RawQueryString: rawQuery,
				Cookies: cookies, Headers: headers, QueryStringParameters: params,
				RequestContext: events.LambdaFunctionURLRequestContext{
					AccountID: lambdaAccountID, RequestID: requestID, APIID: lambdaAPIID,
					DomainName: host, DomainPrefix: prefix,
					Time: now.UTC().Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: now.UnixMilli(),
					HTTP: events.LambdaFunctionURLRequestContextHTTPDescription(httpDesc),
				},
				Body: bodyField, IsBase64Encoded: isBase64,
			}
		}
	default:
		return nil, fmt.Errorf("%s is not a Lambda host shape", shape)
	}
	out, err := json.Marshal(ev)
	if err != nil || (o.Edit == nil && shape != app.ShapeLambdaV2) {
		return out, err
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if rc, ok := m["requestContext"].(map[string]any); ok && shape == app.ShapeLambdaV2 {
		// aws-lambda-go always writes requestContext.authentication (a
		// struct, which omitempty keeps); HTTP APIs send it only for mTLS.
		delete(rc, "authentication")
	}
	if o.Edit != nil {
		o.Edit(m)
	}
	return json.Marshal(m)
}

type orderedPairs struct {
	keys   []string
	values map[string][]string
}

// queryPairs decodes a raw query as the gateways do: every value of every
// parameter, in order, "+" read as a space, a valueless parameter as "".
func queryPairs(raw string) orderedPairs {
	q := orderedPairs{values: map[string][]string{}}
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, v = unescapeQueryPart(k), unescapeQueryPart(v)
		if _, seen := q.values[k]; !seen {
			q.keys = append(q.keys, k)
		}
		q.values[k] = append(q.values[k], v)
	}
	return q
}

func unescapeQueryPart(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// IsTextMediaType reports whether the gateway passes a body of this
// Content-Type as text: text/*, JSON, JavaScript, XML and the +json and
// +xml types. Everything else (form bodies included) is binary.
func IsTextMediaType(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", mt == "application/javascript", mt == "application/xml",
		strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return true
	}
	return false
}

// EncodeLambdaBody is how the gateway puts a request body in the event:
// text that is valid UTF-8 as it is, anything else base64-encoded with
// isBase64Encoded set (B23).
func EncodeLambdaBody(contentType string, body []byte) (string, bool) {
	if len(body) == 0 {
		return "", false
	}
	if IsTextMediaType(contentType) && utf8.Valid(body) {
		return string(body), false
	}
	return base64.StdEncoding.EncodeToString(body), true
}

// framing headers belong to the gateway's own connection; it never takes
// them from an envelope.
var lambdaFramingHeaders = map[string]bool{"Content-Length": true, "Transfer-Encoding": true, "Connection": true}

// TranslateLambdaResponse turns a function's raw result into the HTTP
// response the gateway of the shape sends, or says why the gateway rejects
// it (problem non-empty: a 502).
//
// Payload v1 (REST): the result must be a JSON object with only statusCode,
// headers, multiValueHeaders, body and isBase64Encoded, each of its type;
// anything else is a malformed proxy response (B05). headers and
// multiValueHeaders are merged into one list per name, a value in both once.
//
// Payload v2 and Function URLs: cookies[] each become a Set-Cookie line;
// headers are single-valued; multiValueHeaders is ignored (B04, B10). A
// result that is not an object with a statusCode is the body of a 200
// application/json response.
func TranslateLambdaResponse(shape app.HostShape, raw []byte) (status int, header http.Header, body []byte, problem string) {
	var fields map[string]json.RawMessage
	isObject := json.Unmarshal(raw, &fields) == nil && fields != nil
	header = http.Header{}
	if shape != app.ShapeLambdaV1 {
		if _, has := fields["statusCode"]; !isObject || !has {
			header.Set("Content-Type", "application/json")
			return http.StatusOK, header, raw, ""
		}
	} else if !isObject {
		return 0, nil, nil, "the result is not a JSON object"
	}
	allowed := map[string]bool{"statusCode": true, "headers": true, "body": true, "isBase64Encoded": true, "multiValueHeaders": true}
	if shape != app.ShapeLambdaV1 {
		allowed["cookies"] = true
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !allowed[k] && shape == app.ShapeLambdaV1 {
			return 0, nil, nil, fmt.Sprintf("field %q is not part of a payload v1 response (statusCode, headers, multiValueHeaders, body, isBase64Encoded)", k)
		}
	}
	isNull := func(k string) bool { v, ok := fields[k]; return !ok || string(v) == "null" }

	var n int
	if isNull("statusCode") || json.Unmarshal(fields["statusCode"], &n) != nil {
		return 0, nil, nil, fmt.Sprintf("statusCode must be an integer, got %s", orMissing(fields["statusCode"]))
	}
	if n < 200 || n > 599 {
		return 0, nil, nil, fmt.Sprintf("statusCode must be an integer from 200 to 599, got %d", n)
	}
	var single map[string]string
	if !isNull("headers") && json.Unmarshal(fields["headers"], &single) != nil {
		return 0, nil, nil, fmt.Sprintf("headers must map names to strings, got %.200s", fields["headers"])
	}
	var multi map[string][]string
	if shape == app.ShapeLambdaV1 && !isNull("multiValueHeaders") && json.Unmarshal(fields["multiValueHeaders"], &multi) != nil {
		return 0, nil, nil, fmt.Sprintf("multiValueHeaders must map names to arrays of strings, got %.200s", fields["multiValueHeaders"])
	}
	var cookies []string
	if shape != app.ShapeLambdaV1 && !isNull("cookies") && json.Unmarshal(fields["cookies"], &cookies) != nil {
		return 0, nil, nil, fmt.Sprintf("cookies must be an array of strings, got %.200s", fields["cookies"])
	}
	var text string
	if !isNull("body") && json.Unmarshal(fields["body"], &text) != nil {
		return 0, nil, nil, fmt.Sprintf("body must be a string, got %.200s", fields["body"])
	}
	var b64 bool
	if !isNull("isBase64Encoded") && json.Unmarshal(fields["isBase64Encoded"], &b64) != nil {
		return 0, nil, nil, fmt.Sprintf("isBase64Encoded must be a boolean, got %.200s", fields["isBase64Encoded"])
	}
	body = []byte(text)
	if b64 {
		var err error
		if body, err = base64.StdEncoding.DecodeString(text); err != nil {
			return 0, nil, nil, "isBase64Encoded is true but the body is not base64: " + err.Error()
		}
	}
	for _, k := range sortedKeys(multi) {
		ck := http.CanonicalHeaderKey(k)
		if !lambdaFramingHeaders[ck] {
			header[ck] = append(header[ck], multi[k]...)
		}
	}
	for _, k := range sortedKeys(single) {
		ck := http.CanonicalHeaderKey(k)
		if lambdaFramingHeaders[ck] {
			continue
		}
		if shape == app.ShapeLambdaV1 && hasCanonical(multi, ck) {
			// REST merges headers into multiValueHeaders' list; a pair in
			// both appears once (aws-gateway-facts.md: AWS's REST Lambda
			// proxy output-format docs).
			if !slices.Contains(header[ck], single[k]) {
				header[ck] = append(header[ck], single[k])
			}
			continue
		}
		header.Set(ck, single[k])
	}
	for _, c := range cookies {
		header.Add("Set-Cookie", c)
	}
	return n, header, body, ""
}

func hasCanonical[V any](m map[string]V, ck string) bool {
	for k := range m {
		if http.CanonicalHeaderKey(k) == ck {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func orMissing(raw json.RawMessage) string {
	if raw == nil {
		return "nothing (the field is missing)"
	}
	return string(raw)
}

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
// LambdaStreamContentType, such as *events.LambdaFunctionURLStreamingResponse)
// is handed unread to the LambdaGateway that invoked the function, which
// streams it; any other caller gets it read in full, prelude, separator and
// body, as the runtime would post it.
func InProcessInvoker(handler any) LambdaInvoker {
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
		ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: requestID, InvokedFunctionArn: lambdaFunctionARN})
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
func singleEnvironmentInvoker(h lambda.Handler) LambdaInvoker {
	var turn sync.Mutex
	return func(ctx context.Context, requestID string, event []byte) (out []byte, err error) {
		turn.Lock()
		defer turn.Unlock()
		defer func() {
			if p := recover(); p != nil {
				out, err = nil, panicError(p)
			}
		}()
		ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: requestID, InvokedFunctionArn: lambdaFunctionARN})
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
	if !ok || !typed || ct.ContentType() != LambdaStreamContentType {
		return nil
	}
	return r
}

var lambdaGateways sync.Map // *Host -> *LambdaGateway

// LambdaGatewayOf returns the gateway behind a Lambda host, or nil.
func LambdaGatewayOf(h *Host) *LambdaGateway {
	if h == nil {
		return nil
	}
	g, _ := lambdaGateways.Load(h)
	gw, _ := g.(*LambdaGateway)
	return gw
}

// lambdaExportHost puts a Lambda handler export behind the emulated gateway
// of its shape, on an httptest server.
func lambdaExportHost(name string, v any, shape app.HostShape, renders *RenderLog, in *Instance) *Host {
	h := &Host{Shape: shape, Export: name, Renders: renders, Faults: &FaultLog{}, NextCalls: &atomic.Int64{}}
	g := NewLambdaGateway(shape, InProcessInvoker(v), h.Faults)
	srv := httptest.NewUnstartedServer(g)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	h.URL = srv.URL
	lambdaGateways.Store(h, g)
	in.onStop(func(context.Context) error {
		srv.CloseClientConnections()
		srv.Close()
		lambdaGateways.Delete(h)
		return nil
	})
	return h
}
