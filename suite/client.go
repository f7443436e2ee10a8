package suite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/runner/executable"
	"github.com/adapterconformance/adapter-conformance/runner/lambdahost"
)

// client sends the suite's requests to one host. It never follows
// redirects and never asks for compression, so the suite sees exactly what
// the adapter sent.
type client struct {
	host *runner.Host
	c    *http.Client
	tr   *http.Transport
	seq  atomic.Int64
	// unanswered counts requests that got no response at all: the sign
	// that an out-of-process adapter may have died.
	unanswered *atomic.Int64
}

// newClient: ExpectContinueTimeout is Go's DefaultTransport's (and curl's)
// one second, so that a corpus request with `Expect: 100-continue` (DIFF-1)
// waits for 100 Continue, or an answer, before it sends its body, as a
// real client does; with none the body would go at once and the
// expectation would never be exercised. A host that never sends 100
// Continue costs a second per such request, never a failure: the body goes
// after the timeout.
//
// request is how long a request waits for its response headers
// (runner.Timeouts.Request); the whole exchange gets twice that.
func newClient(h *runner.Host, request time.Duration) *client {
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 8, ResponseHeaderTimeout: request, ExpectContinueTimeout: time.Second}
	return &client{host: h, tr: tr, unanswered: new(atomic.Int64), c: &http.Client{
		Transport:     tr,
		Timeout:       2 * request,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// patient is a client for the same host whose requests may each take up
// to d, counting its unanswered requests with c's. It is for a spec whose
// requests queue behind each other on purpose (EXPORT-3's fifty at once):
// what is judged there is each answer, not how soon it came, and a loaded
// machine (a CI runner under -race, a Lambda emulation encoding every
// body) stretches fifty concurrent answers far beyond a lone request's 10 s.
func (c *client) patient(d time.Duration) *client {
	tr := c.tr.Clone()
	tr.ResponseHeaderTimeout = d
	return &client{host: c.host, tr: tr, unanswered: c.unanswered, c: &http.Client{
		Transport:     tr,
		Timeout:       d + 10*time.Second,
		CheckRedirect: c.c.CheckRedirect,
	}}
}

// over is a client for the same host through another of its base URLs
// (its IPv6 listener, DIFF-5), counting its unanswered requests with c's;
// its exchanges name a copy of the host whose URL is that one, so that
// Origin, the Host header and the messages say where the request went.
func (c *client) over(baseURL string) *client {
	h := *c.host
	h.URL = baseURL
	o := newClient(&h, c.tr.ResponseHeaderTimeout)
	o.unanswered = c.unanswered
	return o
}

func (c *client) close() { c.tr.CloseIdleConnections() }

// exchange is one request and what came back: the evidence a failure shows.
type exchange struct {
	id        string
	method    string
	target    string // path and query, as sent on the request line
	reqHeader http.Header
	host      string // Host header, when not the default
	reqBody   []byte
	resp      *http.Response
	body      []byte
	err       error
	hostInfo  *runner.Host
	// framing is how the request body was framed on the wire, as the
	// header line that says so ("" without a body): the transport adds
	// it, so it is not among reqHeader (DIFF-1's framing dimension).
	framing string
	// localAddr is the address the client connected from (host and
	// port), "" when no connection was made: the peer a host listening on
	// its own socket hands the App as clientAddress (DIFF, HTTP-18).
	localAddr string
}

// clientIP is the IP the exchange's connection came from, as the App's
// clientAddress shows it; 127.0.0.1 when no connection was made.
func (ex *exchange) clientIP() string {
	if h, _, err := net.SplitHostPort(ex.localAddr); err == nil {
		return h
	}
	return "127.0.0.1"
}

// reqOpt adjusts a request before it is sent.
type reqOpt func(*http.Request)

func header(name, value string) reqOpt {
	return func(r *http.Request) { r.Header.Add(name, value) }
}

func hostHeader(h string) reqOpt { return func(r *http.Request) { r.Host = h } }

// withOrigin replaces the Origin the client sends; withoutOrigin sends none.
func withOrigin(o string) reqOpt { return func(r *http.Request) { r.Header.Set("Origin", o) } }

func withoutOrigin() reqOpt { return func(r *http.Request) { r.Header.Del("Origin") } }

// unsafeMethod: a browser sends Origin for any method but GET and HEAD
// (the Fetch standard), and Astro's origin check skips GET, HEAD and
// OPTIONS.
func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != ""
}

// hostOrigin is the origin of a host URL, serialized as a browser does:
// scheme, lowercase host, and the port unless it is the scheme's default.
func hostOrigin(hostURL string) string {
	u, err := url.Parse(hostURL)
	if err != nil || u.Host == "" {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" && !(u.Scheme == "http" && p == "80") && !(u.Scheme == "https" && p == "443") {
		host += ":" + p
	}
	return u.Scheme + "://" + host
}

// origin is the Origin a browser on the host's pages sends. Behind a
// Lambda gateway that is https whatever the emulator listens on: AWS's
// gateways are HTTPS only and say so in X-Forwarded-Proto (AWS's sample
// events in aws-lambda-go's testdata), which the App's URL follows
// (LAMBDA-19).
func (c *client) origin() string {
	o := hostOrigin(c.host.URL)
	if c.host.Shape.IsLambda() {
		if rest, ok := strings.CutPrefix(o, "http://"); ok {
			o = "https://" + rest
		}
	}
	return o
}

// send performs one request and reads the whole response.
func (c *client) send(ctx context.Context, method, target string, body []byte, opts ...reqOpt) *exchange {
	ex := c.start(ctx, method, target, body, opts...)
	if ex.err == nil {
		defer ex.resp.Body.Close()
		ex.body, ex.err = readResponseBody(ex.resp, 64<<20)
	}
	return ex
}

// presizeLimit bounds the room readResponseBody makes ahead of a body.
const presizeLimit = 8 << 20

// readResponseBody reads up to limit bytes of a response's body, as
// io.ReadAll would, but without the copies of a buffer that doubles, a
// cost the race detector, with which the kit's own tests run, multiplies
// (issue 19 item 6). A body of announced length is read into room made at
// once for it: at most presizeLimit, and none for a HEAD, whose
// Content-Length announces a body that does not come, so an adapter's
// wrong length costs no more than that. A body of unknown length (a
// stream, such as HTTP-15's 5 MB) is read in pieces, each as large as all
// before it, and joined once at its size.
func readResponseBody(resp *http.Response, limit int64) ([]byte, error) {
	if n := resp.ContentLength; n > 0 && (resp.Request == nil || resp.Request.Method != http.MethodHead) {
		var b bytes.Buffer
		b.Grow(int(min(n, limit, presizeLimit)) + bytes.MinRead)
		_, err := b.ReadFrom(io.LimitReader(resp.Body, limit))
		return b.Bytes(), err
	}
	b := executable.NewCappedBuffer(int(min(limit, math.MaxInt)))
	err := b.ReadUpTo(resp.Body)
	return b.Bytes(), err
}

// start sends a request and returns as soon as the headers are in; the
// caller reads ex.resp.Body.
func (c *client) start(ctx context.Context, method, target string, body []byte, opts ...reqOpt) *exchange {
	id := strconv.FormatInt(c.seq.Add(1), 10) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	ex := &exchange{id: id, method: method, target: target, reqBody: body, hostInfo: c.host}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.host.URL, rd)
	if err != nil {
		ex.err = err
		return ex
	}
	// The target goes on the request line byte for byte, even when it is not
	// a valid path (malformed escapes): Opaque is written verbatim. Go would
	// read an Opaque starting with "//" as scheme-relative, so such targets
	// go through Path and RawPath instead.
	if strings.HasPrefix(target, "//") {
		pu, err := url.ParseRequestURI(target)
		if err != nil {
			ex.err = err
			return ex
		}
		req.URL.Path, req.URL.RawPath, req.URL.RawQuery = pu.Path, pu.RawPath, pu.RawQuery
	} else {
		req.URL.Path, req.URL.Opaque = "", target
	}
	if unsafeMethod(method) {
		// A browser sends Origin with every request of an unsafe method;
		// so does the kit, with the origin of the host it talks to, so that
		// Astro's origin check (astro-behavior §3) passes its requests as
		// it passes a same-origin form. Specs of the check itself set or
		// remove it (withOrigin, withoutOrigin).
		req.Header.Set("Origin", c.origin())
	}
	for _, o := range opts {
		o(req)
	}
	req.Header.Set(lambdahost.RequestIDHeader, id)
	switch {
	case len(body) == 0:
	case req.ContentLength < 0:
		ex.framing = "Transfer-Encoding: chunked"
	default:
		ex.framing = "Content-Length: " + strconv.FormatInt(req.ContentLength, 10)
	}
	ex.reqHeader = req.Header.Clone()
	ex.host = req.Host
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(ci httptrace.GotConnInfo) { ex.localAddr = ci.Conn.LocalAddr().String() },
	}))
	ex.resp, ex.err = c.c.Do(req)
	// The client's error names req.URL, which, with the target in Opaque,
	// prints as "http:/api/throws": put the host back, so the message says
	// where the request went.
	var ue *url.Error
	if errors.As(ex.err, &ue) {
		ue.URL = c.host.URL + target
	}
	// A request the spec itself gave up on (its context ended) says
	// nothing about the adapter's health.
	if ex.resp == nil && req.Context().Err() == nil {
		c.unanswered.Add(1)
	}
	return ex
}

func (ex *exchange) status() int {
	if ex.resp == nil {
		return 0
	}
	return ex.resp.StatusCode
}

// renders returns what the App rendered for this request (in-process only).
func (ex *exchange) renders() []*runner.Render {
	if ex.hostInfo.Renders == nil {
		return nil
	}
	return ex.hostInfo.Renders.For(ex.id)
}

// faults returns what the host shim saw go wrong for this request.
func (ex *exchange) faults() []string {
	if ex.hostInfo.Faults == nil {
		return nil
	}
	return ex.hostInfo.Faults.For(ex.id)
}

// dump renders the exchange as the report shows it.
func (ex *exchange) dump() string {
	var b strings.Builder
	fmt.Fprintf(&b, "  > %s %s HTTP/1.1\n", ex.method, ex.target)
	if ex.host != "" {
		fmt.Fprintf(&b, "  > Host: %s\n", ex.host)
	}
	writeHeaders(&b, "  > ", ex.reqHeader)
	if ex.framing != "" {
		fmt.Fprintf(&b, "  > %s\n", ex.framing)
	}
	if len(ex.reqBody) > 0 {
		fmt.Fprintf(&b, "  > (%d body bytes) %s\n", len(ex.reqBody), excerpt(ex.reqBody))
	}
	if ex.err != nil && ex.resp == nil {
		fmt.Fprintf(&b, "  < (no response: %v)\n", ex.err)
		return b.String()
	}
	fmt.Fprintf(&b, "  < %s %s\n", ex.resp.Proto, ex.resp.Status)
	writeHeaders(&b, "  < ", ex.resp.Header)
	fmt.Fprintf(&b, "  < (%d body bytes) %s\n", len(ex.body), excerpt(ex.body))
	if ex.err != nil {
		fmt.Fprintf(&b, "  < (reading the body failed: %v)\n", ex.err)
	}
	for _, f := range ex.faults() {
		fmt.Fprintf(&b, "  ! host saw: %s\n", f)
	}
	return b.String()
}

func writeHeaders(b *strings.Builder, prefix string, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		if k == lambdahost.RequestIDHeader {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(b, "%s%s: %s\n", prefix, k, v)
		}
	}
}

func excerpt(b []byte) string {
	const n = 300
	s := b
	more := ""
	if len(s) > n {
		s, more = s[:n], "..."
	}
	return strconv.Quote(string(s)) + more
}

// explain builds the failure message gomega prints: the requirement, what
// was expected, and the exchange that shows what came back. The requirement
// is the running spec's, the one spec registered it under: no check names
// it again. The message is built when gomega asks for it, on a failure,
// which is inside the spec that made the check; every check runs in a spec
// body (none in a BeforeAll, an AfterAll or a goroutine that outlives its
// spec), so that is the spec whose requirement the failure is filed under.
func explain(expected string, exs ...*exchange) func() string {
	return func() string {
		var b strings.Builder
		id := currentRequirement()
		req, _ := RequirementByID(id)
		fmt.Fprintf(&b, "%s (%s): %s\n", id, req.Level, req.Text)
		fmt.Fprintf(&b, "expected: %s\n", expected)
		for _, ex := range exs {
			if ex == nil {
				continue
			}
			fmt.Fprintf(&b, "exchange with the %s host (%s):\n%s", ex.hostInfo.Shape, ex.hostInfo.Export, ex.dump())
			if ex.hostInfo.ExitStatus != nil {
				if st := ex.hostInfo.ExitStatus(); st != "" {
					fmt.Fprintf(&b, "the adapter process %s\n", st)
				}
			}
		}
		return b.String()
	}
}

// attach records the exchanges on the current spec so reports can show them.
func attach(exs ...*exchange) {
	for _, ex := range exs {
		if ex != nil {
			ginkgo.AddReportEntry("exchange", ex.dump(), ginkgo.ReportEntryVisibilityFailureOrVerbose)
		}
	}
}
