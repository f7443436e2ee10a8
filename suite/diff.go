package suite

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/onsi/ginkgo/v2"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner"
)

// Differential testing (DIFF-1..4): a corpus of requests generated from the
// fixture's manifest, each sent to the adapter and rendered by the kit's own
// App for the fixture; the adapter's answer must equal the App's. A
// difference is shrunk to the smallest request that still shows it, and
// reported under the requirement of the dimension that matters.

// DefaultSeed is the corpus seed when none is given: a fixed one, so that a
// CI run is reproducible.
const DefaultSeed uint64 = 1

// DefaultCorpus is the default corpus size (requests per fixture and host).
const DefaultCorpus = 300

// The dimensions of a request. Value 0 of each is its plain value.
const (
	dimMethod = iota
	dimBody
	dimFraming
	dimHeaders
	dimPath
	dimQuery
	dimPeer
	numDims
)

var dimNames = [numDims]string{"method", "body", "framing", "headers", "path", "query", "peer"}

var diffMethods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "PROPFIND"}

// diffBodies: "binary-1MiB" is rare, sent only to one route whose answer
// shows the body (diffRoute.echo), so that it appears a few times per
// fixture rather than on every route (time to verdict).
var diffBodies = []string{"none", "empty", "json", "binary-64KiB", "form-urlencoded", "multipart", "text", "binary-1MiB"}

// diffFramings: "expect 100-continue" is Content-Length framing with
// `Expect: 100-continue`, as curl sends a body over 1 KiB (RFC 9110
// §10.1.1).
var diffFramings = []string{"content-length", "chunked", "expect 100-continue"}

// diffHeaders: "long Cookie line" is one Cookie line of about 4 KiB, the
// most a browser keeps per cookie (RFC 6265 §6.1); "large header block"
// brings the request's header section to about 7 KiB, under the 8 KiB that
// common servers accept by default.
var diffHeaders = []string{"none", "repeated field", "value with commas", "several Cookie lines", "mixed-case names", "long Cookie line", "large header block"}

// diffPaths: "Unicode NFC" and "Unicode NFD" put café in the last segment,
// percent-encoded as a client sends it, composed (%C3%A9) and decomposed
// (e followed by U+0301, %CC%81): two different paths to the App, which
// does not normalize (nor does Astro).
var diffPaths = []string{"plain", "trailing slash toggled", "doubled slash", "dot segments", "percent-encoded letter", "upper case", "encoded slash", "raw sub-delimiters", "Unicode NFC", "Unicode NFD"}

var diffQueries = []string{"none", "empty ?", "repeated keys", "+ and %20", "encoded delimiters", "valueless key"}

// diffPeers: the request comes from the IPv4 loopback, or from the IPv6
// one, to the host's second listener there (runner.Host.IPv6URL), as a
// client that resolved localhost to ::1 does: its Host and Origin then
// name [::1] too.
var diffPeers = []string{"IPv4 loopback", "IPv6 loopback"}

var dimSizes = [numDims]int{len(diffMethods), len(diffBodies), len(diffFramings), len(diffHeaders), len(diffPaths), len(diffQueries), len(diffPeers)}

func dimValueName(d, v int) string {
	switch d {
	case dimMethod:
		return diffMethods[v]
	case dimBody:
		return diffBodies[v]
	case dimFraming:
		return diffFramings[v]
	case dimHeaders:
		return diffHeaders[v]
	case dimPath:
		return diffPaths[v]
	case dimQuery:
		return diffQueries[v]
	default:
		return diffPeers[v]
	}
}

// diffGroup is the requirement a dimension's differences are reported
// under; DIFF-4 is the route's plain request.
func diffGroup(d int) string {
	switch d {
	case dimMethod, dimBody, dimFraming:
		return "DIFF-1"
	case dimHeaders:
		return "DIFF-2"
	case dimPath, dimQuery:
		return "DIFF-3"
	case dimPeer:
		return "DIFF-5"
	}
	return "DIFF-4"
}

var diffIDs = []string{"DIFF-1", "DIFF-2", "DIFF-3", "DIFF-4", "DIFF-5"}

// diffRoute is one kind of request target the manifest calls for: a route
// with its params filled in, the 404 page, an unmatched path, a public file.
type diffRoute struct {
	kind string // the route pattern, "(unmatched)", "(public file) /robots.txt"
	path string // the plain path
	// echo: the route that gets the 1 MiB body: its answer shows the
	// request whatever the method (an ALL echo endpoint), so the body's
	// bytes matter to it. One route per fixture, for time to verdict.
	echo bool
	// asset: the plain path is one of the manifest's public files.
	asset bool
}

// diffReq is one request of the corpus: a route and one value per dimension.
type diffReq struct {
	route diffRoute
	dims  [numDims]int
}

func (d diffReq) key() string { return fmt.Sprint(d.route.path, d.dims) }

// varied names the dimensions that are not plain.
func (d diffReq) varied() []int {
	var out []int
	for i, v := range d.dims {
		if v != 0 {
			out = append(out, i)
		}
	}
	return out
}

func (d diffReq) describe() string {
	var parts []string
	for _, i := range d.varied() {
		parts = append(parts, dimNames[i]+"="+dimValueName(i, d.dims[i]))
	}
	if len(parts) == 0 {
		return "the plain request of route " + d.route.kind
	}
	return "route " + d.route.kind + " with " + strings.Join(parts, ", ")
}

// diffExcluded says, per host shape, which dimension values a host changes
// by design, with why (SPEC.md, DIFF area): they are left out of its corpus.
func diffExcluded(shape app.HostShape, dim, v int) bool {
	name := dimValueName(dim, v)
	switch shape {
	case app.ShapeLambdaV2:
		// An HTTP API hands the function a decoded rawPath: no
		// percent-encoding survives (aws-gateway-facts, request path),
		// neither an encoded ASCII letter nor encoded UTF-8.
		if dim == dimPath && (name == "percent-encoded letter" || name == "encoded slash" || name == "Unicode NFC" || name == "Unicode NFD") {
			return true
		}
	case app.ShapeLambdaV1:
		// REST rebuilds the query from its decoded parameter maps
		// (aws-gateway-facts, query string): no HTTP-3 on lambda-v1.
		if dim == dimQuery && (name == "empty ?" || name == "+ and %20" || name == "encoded delimiters" || name == "valueless key") {
			return true
		}
	}
	if shape.IsLambda() {
		// A gateway buffers the body and sends the event with none of the
		// client's framing: chunked, or Content-Length after an Expect
		// the gateway answered, is the same request to the function.
		if dim == dimFraming && v != 0 {
			return true
		}
	}
	return false
}

// diffExcludedOn is diffExcluded for one route kind. The 1 MiB body goes
// only to one route whose answer shows the body (a few requests per
// fixture: under the race detector one costs about two seconds through a
// Lambda gateway, and elsewhere the 64 KiB one tells as much). On
// a public file the path variants whose file-or-route outcome depends on
// how a host's file server normalizes paths are not sent (SPEC.md, DIFF
// allowed differences): a trailing slash, a doubled slash, dot segments
// (Astro serves /assets/../robots.txt, astro-behavior §8; ROBUST-8 and
// MATCH-6 check dot segments and directories) and a percent-encoded letter.
func diffExcludedOn(shape app.HostShape, r diffRoute, dim, v int) bool {
	if diffExcluded(shape, dim, v) {
		return true
	}
	name := dimValueName(dim, v)
	if dim == dimBody && name == "binary-1MiB" && !r.echo {
		return true
	}
	if r.asset && dim == dimPath {
		switch name {
		case "trailing slash toggled", "doubled slash", "dot segments", "percent-encoded letter":
			return true
		}
	}
	return false
}

// buildCorpus generates the corpus for a manifest: every route kind, each
// with enough requests that every value of every dimension appears at least
// once, the values combined round-robin from seeded offsets.
//
// ipv6 says whether the host has an IPv6 listener; without one every
// request comes from the IPv4 loopback. The peer's offsets come from a
// generator of their own, so the other dimensions' values are the same
// for a seed whether or not the host has one.
func buildCorpus(m *app.Manifest, shape app.HostShape, seed uint64, size int, ipv6 bool) []diffReq {
	routes := diffRoutes(m)
	rng := rand.New(rand.NewPCG(seed, 0x6469666623))
	peerRng := rand.New(rand.NewPCG(seed, 0x70656572))
	per := 12
	if len(routes) > 0 && size/len(routes) > per {
		per = size / len(routes)
	}
	var out []diffReq
	for _, r := range routes {
		var next [numDims]int
		for d := range next {
			if d == dimPeer {
				next[d] = peerRng.IntN(dimSizes[d])
				continue
			}
			next[d] = rng.IntN(dimSizes[d])
		}
		take := func(d int) int {
			for range dimSizes[d] {
				v := next[d] % dimSizes[d]
				next[d]++
				if d == dimPeer && !ipv6 {
					continue
				}
				if !diffExcludedOn(shape, r, d, v) {
					return v
				}
			}
			return 0
		}
		// The route's plain request comes first, always: DIFF-4 is about
		// it, and with ten path values a route's few GETs may all carry a
		// path variant that takes them off the route (/api/binary's
		// corrupted bytes then never show in a GET).
		out = append(out, diffReq{route: r})
		for range per {
			var q diffReq
			q.route = r
			q.dims[dimMethod] = take(dimMethod)
			if unsafeMethod(diffMethods[q.dims[dimMethod]]) {
				q.dims[dimBody] = take(dimBody)
				if q.dims[dimBody] > 1 {
					q.dims[dimFraming] = take(dimFraming)
				}
			}
			q.dims[dimHeaders] = take(dimHeaders)
			q.dims[dimPath] = take(dimPath)
			q.dims[dimQuery] = take(dimQuery)
			q.dims[dimPeer] = take(dimPeer)
			out = append(out, q)
		}
	}
	return out
}

// diffRoutes are the route kinds of a manifest, each with a plain path:
// params filled in, under the base when the fixture has one. Left out: actions whose answer is not a function of the
// request (stream, stream-state, large, invalid-status; see SPEC.md).
func diffRoutes(m *app.Manifest) []diffRoute {
	var out []diffRoute
	base := strings.TrimSuffix(m.Base, "/")
	bigBodyRoute := false
	for _, r := range m.Routes {
		if r.Internal || skipDiffRoute(r) {
			continue
		}
		var segs []string
		for s := range strings.SplitSeq(strings.Trim(r.Pattern, "/"), "/") {
			switch {
			case s == "":
			case strings.HasPrefix(s, "[..."):
				segs = append(segs, "d1", "d2")
			case strings.HasPrefix(s, "["):
				if strings.Contains(r.Pattern, "status/[") {
					segs = append(segs, "201")
				} else {
					segs = append(segs, "p1")
				}
			default:
				segs = append(segs, s)
			}
		}
		p := "/" + strings.Join(segs, "/")
		// The 1 MiB body goes to the first route that echoes every
		// method's body (/api/echo-all) and nowhere else.
		echo := !bigBodyRoute && echoAllRoute(r)
		bigBodyRoute = bigBodyRoute || echo
		if base != "" {
			// Without the base, the routes are basic's (RENDER-12).
			out = append(out, diffRoute{kind: "base " + r.Pattern, path: base + strings.TrimSuffix(p, "/"), echo: echo})
			continue
		}
		out = append(out, diffRoute{kind: r.Pattern, path: p, echo: echo})
	}
	out = append(out, diffRoute{kind: "(unmatched)", path: "/no-such-route"})
	// Public files, as the manifest's Assets name them (with the base in
	// the base fixture, astro-behavior §14.2); dotfiles are not served
	// (MATCH-6), so they are no file's path.
	for _, a := range m.Assets {
		if strings.Contains(a, "/.") {
			continue
		}
		out = append(out, diffRoute{kind: "(public file) " + a, path: a, asset: true})
	}
	return out
}

// echoAllRoute: the route echoes the request whatever its method (one ALL
// handler that echoes), so every method's body shows in its answer.
func echoAllRoute(r *app.Route) bool {
	a, ok := r.Handlers["ALL"]
	return ok && len(r.Handlers) == 1 && a.Kind == "echo"
}

func skipDiffRoute(r *app.Route) bool {
	for _, a := range r.Handlers {
		switch a.Kind {
		case "stream", "stream-state", "large", "invalid-status":
			return true
		}
	}
	return false
}

// request builds the method, target, body and options of a corpus request.
func (d diffReq) request() (method, target string, body []byte, opts []reqOpt) {
	method = diffMethods[d.dims[dimMethod]]
	target = diffPath(d.route.path, d.dims[dimPath]) + diffQuery(d.dims[dimQuery])
	ct := ""
	switch diffBodies[d.dims[dimBody]] {
	case "empty":
		body = []byte{}
	case "json":
		body, ct = []byte(`{"hello":"world","n":[1,2,3]}`), "application/json"
	case "binary-64KiB":
		body, ct = binaryBody(64<<10), "application/octet-stream"
	case "binary-1MiB":
		body, ct = binaryBody(1<<20), "application/octet-stream"
	case "form-urlencoded":
		body, ct = []byte("a=1&b=two+words&c=%26"), "application/x-www-form-urlencoded"
	case "multipart":
		body = []byte("--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nvalue\r\n--XyZ--\r\n")
		ct = "multipart/form-data; boundary=XyZ"
	case "text":
		body, ct = []byte("plain text, with a comma\n"), "text/plain"
	}
	if ct != "" {
		opts = append(opts, header("Content-Type", ct))
	}
	switch diffFramings[d.dims[dimFraming]] {
	case "chunked":
		opts = append(opts, func(r *http.Request) { r.ContentLength = -1 })
	case "expect 100-continue":
		opts = append(opts, header("Expect", "100-continue"))
	}
	// The transport adds a User-Agent when there is none; set it, so the
	// App's own render of the request sees it too.
	opts = append(opts, header("User-Agent", "adapter-conformance-diff"))
	switch diffHeaders[d.dims[dimHeaders]] {
	case "repeated field":
		opts = append(opts, header("X-Multi", "a"), header("X-Multi", "b"))
	case "value with commas":
		opts = append(opts, header("X-Date", httpDate))
	case "several Cookie lines":
		opts = append(opts, header("Cookie", "a=1"), header("Cookie", "b=2; c=3"))
	case "mixed-case names":
		opts = append(opts, func(r *http.Request) { r.Header["x-MiXeD-Case"] = []string{"v"} })
	case "long Cookie line":
		opts = append(opts, header("Cookie", longCookie))
	case "large header block":
		for i, v := range largeHeaderBlock {
			opts = append(opts, header(fmt.Sprintf("X-Pad-%02d", i), v))
		}
	}
	return
}

// binaryBody is n bytes of every value, in a pattern that is not periodic
// in 256 bytes, so a byte dropped or moved changes the hash.
func binaryBody(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// longCookie is one Cookie line of about 4 KiB: 60 pairs of 64 bytes.
var longCookie = func() string {
	pairs := make([]string, 60)
	for i := range pairs {
		pairs[i] = fmt.Sprintf("c%02d=%s", i, strings.Repeat(string(rune('a'+i%26)), 60))
	}
	return strings.Join(pairs, "; ")
}()

// largeHeaderBlock are the values of 26 X-Pad-NN fields of 240 bytes each:
// about 6.5 KiB, which with the request line and the kit's own fields
// (Host, User-Agent, Origin, Content-Type, the request ID) makes a header
// section of about 7 KiB, under the 8 KiB that common servers accept and
// AWS's gateways' 10 KiB (SPEC.md, DIFF).
var largeHeaderBlock = func() []string {
	out := make([]string, 26)
	for i := range out {
		out[i] = strings.Repeat(fmt.Sprintf("%02d-pad,", i), 30)
	}
	return out
}()

func diffPath(p string, v int) string {
	last := strings.LastIndex(p, "/")
	seg := p[last+1:]
	switch diffPaths[v] {
	case "trailing slash toggled":
		if p == "/" {
			return p
		}
		if strings.HasSuffix(p, "/") {
			return strings.TrimSuffix(p, "/")
		}
		return p + "/"
	case "doubled slash":
		if last <= 0 {
			return "/x/" + p
		}
		return p[:last] + "/" + p[last:]
	case "dot segments":
		return "/x/.." + p
	case "percent-encoded letter":
		if seg == "" {
			return p + "%61"
		}
		return p[:last+1] + fmt.Sprintf("%%%02X", seg[0]) + seg[1:]
	case "upper case":
		return p[:last+1] + strings.ToUpper(seg)
	case "encoded slash":
		return p + "%2Fz"
	case "raw sub-delimiters":
		return p + "!$&'()*+,;=:@~"
	case "Unicode NFC":
		return p[:last+1] + "caf%C3%A9"
	case "Unicode NFD":
		return p[:last+1] + "cafe%CC%81"
	}
	return p
}

func diffQuery(v int) string {
	switch diffQueries[v] {
	case "empty ?":
		return "?"
	case "repeated keys":
		return "?a=1&a=2&b=3"
	case "+ and %20":
		return "?q=a+b&r=a%20b"
	case "encoded delimiters":
		return "?x=%26%3D%3F%23&y=%2F"
	case "valueless key":
		return "?flag&k="
	}
	return ""
}

// diffAnswer is what the App answers to a request.
type diffAnswer struct {
	status int
	header http.Header
	body   []byte
	// file: the answer is a public file's, compared by fileCompare.
	file bool
}

// referenceApp is the kit's own App for the fixture (RENDER-2's too).
func (fx *fixtureEnv) referenceApp() (*app.App, error) {
	fx.referenceOnce.Do(func() {
		fx.referenceLog = &runner.RenderLog{}
		m := *fx.manifest
		m.Observer = fx.referenceLog.Observer()
		fx.reference, fx.referenceErr = app.New(&m)
	})
	return fx.reference, fx.referenceErr
}

// appAnswer renders the request of an exchange with the kit's own App.
func appAnswer(a *app.App, ex *exchange) diffAnswer {
	resp := a.Render(referenceRequest(ex), app.AddCookieHeader(), app.ClientAddress(ex.clientIP()))
	ans := diffAnswer{status: resp.StatusCode, header: resp.Header}
	if resp.Body != nil {
		ans.body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	return ans
}

// diffResult is one request and how the adapter's answer differs from the
// App's ("" when it does not).
type diffResult struct {
	req  diffReq
	ex   *exchange
	want diffAnswer
	diff string
	// contrasts are, for a minimal difference, the same request with one
	// of its varied dimensions made plain, each of which gets the App's
	// answer: the evidence that this dimension is the one that matters.
	contrasts []diffContrast
}

// matters are the dimensions of a minimal difference that matter: those
// whose plain value makes it go away (a framing needs a body, so when the
// framing matters, the body is only its carrier), or, when no contrast
// could be sent (a method that needs its body), every varied one.
func (r diffResult) matters() []int {
	var out []int
	framing := false
	for _, c := range r.contrasts {
		framing = framing || c.dim == dimFraming
	}
	for _, c := range r.contrasts {
		if !(framing && c.dim == dimBody) {
			out = append(out, c.dim)
		}
	}
	if len(out) == 0 {
		return r.req.varied()
	}
	return out
}

// diffContrast is a minimal request with one dimension made plain.
type diffContrast struct {
	dim int
	ex  *exchange
}

// plainPhrase says what a dimension's plain value is, as a failure
// message's contrast ("with Content-Length it arrives intact").
var plainPhrase = [numDims]string{
	dimMethod:  "as a GET",
	dimBody:    "with no body",
	dimFraming: "with Content-Length",
	dimHeaders: "without the header variant",
	dimPath:    "with the plain path",
	dimQuery:   "without the query variant",
	dimPeer:    "from the IPv4 loopback",
}

// diffCompare says how the adapter's answer differs from the App's, or "".
func diffCompare(ex *exchange, want diffAnswer) string {
	if ex.resp == nil {
		return fmt.Sprintf("no response (%v)", ex.err)
	}
	if ex.err != nil {
		return fmt.Sprintf("the body could not be read (%v)", ex.err)
	}
	if ex.status() != want.status {
		return fmt.Sprintf("status %d, the App's is %d", ex.status(), want.status)
	}
	keys := map[string]bool{}
	for k := range want.header {
		keys[k] = true
	}
	for k := range ex.resp.Header {
		keys[k] = true
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range keys {
			if !yield(k) {
				return
			}
		}
	}) {
		if framingHeaders[k] {
			continue
		}
		got, exp := ex.resp.Header.Values(k), want.header.Values(k)
		if !sameFieldValue(k, got, exp) {
			return "header " + fieldExpectation(k, got, exp)
		}
	}
	if cl := ex.resp.Header.Get("Content-Length"); cl != "" && ex.method != http.MethodHead {
		if n, err := strconv.Atoi(cl); err != nil || n != len(ex.body) {
			return fmt.Sprintf("Content-Length: %s, but %d body bytes came", cl, len(ex.body))
		}
	}
	if ex.method == http.MethodHead {
		if len(ex.body) != 0 {
			return fmt.Sprintf("%d body bytes for a HEAD", len(ex.body))
		}
		return ""
	}
	if isEchoAnswer(want) {
		return echoDiff(ex, want.body)
	}
	if !bytes.Equal(ex.body, want.body) {
		return fmt.Sprintf("a body of %d bytes that is not the App's %d bytes: %s", len(ex.body), len(want.body), excerpt(ex.body))
	}
	return ""
}

func isEchoAnswer(a diffAnswer) bool {
	return strings.HasPrefix(a.header.Get("Content-Type"), "application/json") && bytes.Contains(a.body, []byte(`"bodySha256"`))
}

// echoDiff compares an echo apart from what a host may change: the peer
// address, the framing headers, and the headers the host adds (only the
// headers the client sent are compared). Request headers compare with
// sameFieldValue; Cookie as its list of pairs, which a Lambda host joins
// with "; " (aws-gateway-facts, headers and cookies).
func echoDiff(ex *exchange, want []byte) string {
	var got, exp app.Echo
	if err := json.Unmarshal(ex.body, &got); err != nil {
		return "a body that is not the App's echo: " + excerpt(ex.body)
	}
	if err := json.Unmarshal(want, &exp); err != nil {
		return "the App's echo cannot be read: " + err.Error()
	}
	type field struct {
		name      string
		got, want any
	}
	for _, f := range []field{
		{"route", got.Route, exp.Route}, {"method", got.Method, exp.Method}, {"url", got.URL, exp.URL}, {"pathname", got.Pathname, exp.Pathname},
		{"rawPath", got.RawPath, exp.RawPath}, {"rawQuery", got.RawQuery, exp.RawQuery}, {"query", got.Query, exp.Query},
		{"params", got.Params, exp.Params}, {"bodyLength", got.BodyLength, exp.BodyLength}, {"bodySha256", got.BodySHA256, exp.BodySHA256},
	} {
		a, _ := json.Marshal(f.got)
		b, _ := json.Marshal(f.want)
		if !bytes.Equal(a, b) {
			return fmt.Sprintf("the App saw %s %s, where the App given the request as sent sees %s", f.name, a, b)
		}
	}
	if d := clientAddressDiff(ex, got.ClientAddress, exp.ClientAddress); d != "" {
		return d
	}
	for name := range ex.reqHeader {
		ln := strings.ToLower(name)
		if framingHeaders[http.CanonicalHeaderKey(name)] || name == runner.RequestIDHeader {
			continue
		}
		if ln == "expect" {
			// The host meets the expectation itself (100 Continue, or an
			// answer at once) and may or may not pass the field on to the
			// App (RFC 9110 §10.1.1; SPEC.md, DIFF allowed differences).
			continue
		}
		g, w := got.Headers[ln], exp.Headers[ln]
		if ln == "cookie" {
			g, w = cookiePairs(g), cookiePairs(w)
			if !slices.Equal(g, w) {
				return fmt.Sprintf("the App saw Cookie pairs %q, where the App given the request as sent sees %q", g, w)
			}
			continue
		}
		if !sameFieldValue(name, g, w) {
			return "the App saw request header " + fieldExpectation(name, g, w)
		}
	}
	return ""
}

// clientAddressDiff compares the echo's clientAddress with the address the
// kit's client connected from. The one difference a host may make is the
// peer its network puts between them: a container engine forwards a
// published port from its bridge's gateway, so that is the peer the
// container sees (runner.Host.Peers; SPEC.md, DIFF allowed differences).
func clientAddressDiff(ex *exchange, got, want *string) string {
	if got != nil && want != nil && *got != *want && slices.Contains(ex.hostInfo.Peers, *got) {
		return ""
	}
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(want)
	if !bytes.Equal(a, b) {
		return fmt.Sprintf("the App saw clientAddress %s, where the client connected from %s", a, b)
	}
	return ""
}

func cookiePairs(lines []string) []string {
	var out []string
	for _, l := range lines {
		for p := range strings.SplitSeq(l, ";") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// diffRun is a corpus run on one host: its minimal differences by
// requirement, computed once and shared by the DIFF specs.
type diffRun struct {
	once    sync.Once
	byID    map[string][]diffResult
	sent    int
	skipped int
	// concurrentOnly counts differences that went away when the request
	// was sent again on its own.
	concurrentOnly int
	seed           uint64
	corpus         int
}

// send sends one corpus request and compares it with the App's answer, or,
// for a request that names a public file, with the file (see fileAnswer).
func (h *hostEnv) diffSend(ctx context.Context, a *app.App, q diffReq) diffResult {
	method, target, body, opts := q.request()
	c := h.http
	if q.dims[dimPeer] != 0 {
		c = h.http6
	}
	ex := c.send(ctx, method, target, body, opts...)
	want := appAnswer(a, ex)
	diff := diffCompare(ex, want)
	if q.route.asset {
		if file, ok := h.fileAnswer(a, target); ok {
			switch {
			case h.servesFiles():
				want, diff = file, fileCompare(ex, file)
			case diff != "" && fileCompare(ex, file) == "":
				// A host that is not required to serve public files
				// (MATCH-4) may still do so: a Lambda bridge with a
				// file handler. Either answer is right (SPEC.md, DIFF).
				want, diff = file, ""
			}
		}
	}
	return diffResult{req: q, ex: ex, want: want, diff: diff}
}

// servesFiles: the host must serve the public files (MATCH-4): the adapter
// declares ServesStaticAssets, on a start or handler host not in
// middleware mode (where next serves them, MATCH-1).
func (h *hostEnv) servesFiles() bool {
	if h.host == nil || h.host.Middleware || (h.shape != app.ShapeStart && h.shape != app.ShapeHandler) {
		return false
	}
	d, ok := h.fx.inst.Declaration.Adapter()
	return ok && d.Features.ServesStaticAssets
}

// fileAnswer is the answer for a request target whose path names one of the
// manifest's public files as it is (with the base or, in the base fixture,
// without it: astro-behavior §14.2), whatever the method or the query
// (astro-behavior §8: any method gets the file): 200 and the file's bytes.
// ok is false when the path names no file, and the App's answer stands.
func (h *hostEnv) fileAnswer(a *app.App, target string) (diffAnswer, bool) {
	p, _, _ := strings.Cut(target, "?")
	m := h.fx.manifest
	base := strings.TrimSuffix(m.Base, "/")
	var rel string
	switch {
	case m.Public == nil:
		return diffAnswer{}, false
	case a.IsAsset(p):
		rel = strings.TrimPrefix(strings.TrimPrefix(p, base), "/")
	case base != "" && a.IsAsset(base+p):
		rel = strings.TrimPrefix(p, "/")
	default:
		return diffAnswer{}, false
	}
	b, err := fs.ReadFile(m.Public, rel)
	if err != nil {
		return diffAnswer{}, false
	}
	hdr := http.Header{}
	if ext := path.Ext(p); ext == ".svg" || ext == ".txt" {
		hdr.Set("Content-Type", mime.TypeByExtension(ext))
	}
	return diffAnswer{status: http.StatusOK, header: hdr, body: b, file: true}, true
}

// fileCompare compares a public file's answer: the status, the bytes, and
// the media type where MATCH-4 checks one (.svg and .txt). Its other
// headers (Last-Modified, ETag, Accept-Ranges, Cache-Control, the charset
// of the type) are the file server's, not the App's (SPEC.md, DIFF).
func fileCompare(ex *exchange, want diffAnswer) string {
	if ex.resp == nil {
		return fmt.Sprintf("no response (%v)", ex.err)
	}
	if ex.err != nil {
		return fmt.Sprintf("the body could not be read (%v)", ex.err)
	}
	if ex.status() != want.status {
		return fmt.Sprintf("status %d, the public file's is %d", ex.status(), want.status)
	}
	if wt := want.header.Get("Content-Type"); wt != "" {
		got, _, _ := mime.ParseMediaType(ex.resp.Header.Get("Content-Type"))
		exp, _, _ := mime.ParseMediaType(wt)
		if got != exp {
			return fmt.Sprintf("Content-Type %q, the public file's is %s", ex.resp.Header.Get("Content-Type"), exp)
		}
	}
	if ex.method == http.MethodHead {
		if len(ex.body) != 0 {
			return fmt.Sprintf("%d body bytes for a HEAD", len(ex.body))
		}
		return ""
	}
	if cl := ex.resp.Header.Get("Content-Length"); cl != "" {
		if n, err := strconv.Atoi(cl); err != nil || n != len(ex.body) {
			return fmt.Sprintf("Content-Length: %s, but %d body bytes came", cl, len(ex.body))
		}
	}
	if !bytes.Equal(ex.body, want.body) {
		return fmt.Sprintf("a body of %d bytes that is not the public file's %d bytes: %s", len(ex.body), len(want.body), excerpt(ex.body))
	}
	return ""
}

// shrink drops the request's dimensions one at a time (each reset to its
// plain value) while the difference remains.
func (h *hostEnv) shrink(ctx context.Context, a *app.App, r diffResult) diffResult {
	for _, d := range []int{dimPeer, dimPath, dimQuery, dimHeaders, dimFraming, dimBody, dimMethod} {
		if r.req.dims[d] == 0 {
			continue
		}
		q := r.req
		q.dims[d] = 0
		if d == dimBody {
			q.dims[dimFraming] = 0
		}
		if d == dimMethod && q.dims[dimBody] != 0 {
			continue // a GET carries no body
		}
		if t := h.diffSend(ctx, a, q); t.diff != "" {
			r = t
		}
	}
	// What remains varied is what matters: each made plain in turn gets
	// the App's answer (sent again here, for the report to show it).
	for _, d := range r.req.varied() {
		q := r.req
		q.dims[d] = 0
		if d == dimBody {
			q.dims[dimFraming] = 0
		}
		if d == dimMethod && q.dims[dimBody] != 0 {
			continue
		}
		if t := h.diffSend(ctx, a, q); t.diff == "" {
			r.contrasts = append(r.contrasts, diffContrast{dim: d, ex: t.ex})
		}
	}
	return r
}

func (h *hostEnv) runDiff(ctx context.Context) *diffRun {
	h.diffOnce.once.Do(func() {
		run := &h.diffOnce
		run.seed, run.corpus = h.fx.seed, h.fx.corpus
		run.byID = map[string][]diffResult{}
		a, err := h.fx.referenceApp()
		if err != nil {
			ginkgo.Fail("the kit's own App for the fixture: " + err.Error())
		}
		corpus := buildCorpus(h.fx.manifest, h.shape, run.seed, run.corpus, h.http6 != nil)
		var todo []diffReq
		for _, q := range corpus {
			if h.host.Middleware {
				// In middleware mode a request the App does not match is
				// next's (MATCH-1).
				method, target, _, _ := q.request()
				if a.Match(httptest.NewRequest(method, target, nil)) == nil {
					run.skipped++
					continue
				}
			}
			todo = append(todo, q)
		}
		results := make([]diffResult, len(todo))
		var wg sync.WaitGroup
		sem := make(chan struct{}, diffConcurrency)
		for i, q := range todo {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				results[i] = h.diffSend(ctx, a, q)
			}()
		}
		wg.Wait()
		run.sent = len(todo)
		h.fx.results.addDiffRequests(run.sent)
		// A route whose plain request got the App's answer cannot shrink
		// to DIFF-4; one whose plain request differed, or was not sent, can.
		plainPassed := map[string]bool{}
		for _, r := range results {
			if len(r.req.varied()) == 0 && r.diff == "" {
				plainPassed[r.req.route.path] = true
			}
		}
		seen := map[string]bool{}
		for _, r := range results {
			if r.diff == "" {
				continue
			}
			if !shrinkMayAdd(run.byID, r.req, plainPassed[r.req.route.path]) {
				continue // every requirement it could shrink to has its evidence
			}
			// Sent again on its own: a difference that only concurrent
			// requests show is EXPORT-3's business, and shrinking must be
			// deterministic.
			if again := h.diffSend(ctx, a, r.req); again.diff == "" {
				run.concurrentOnly++
				continue
			}
			m := h.shrink(ctx, a, r)
			if seen[m.req.key()] {
				continue
			}
			seen[m.req.key()] = true
			id := diffIDOf(m.req)
			run.byID[id] = append(run.byID[id], m)
		}
	})
	return &h.diffOnce
}

// diffIDOf is the requirement a minimal difference is reported under: the
// group of the dimensions that matter (the first one's, when they span
// groups), or DIFF-4 when the plain request differs.
func diffIDOf(q diffReq) string {
	if v := q.varied(); len(v) > 0 {
		return diffGroup(v[0])
	}
	return "DIFF-4"
}

// shrinkMayAdd says whether shrinking q could add evidence: whether a
// requirement its minimal request may be reported under (the group of a
// dimension it varies, or DIFF-4 unless the route's plain request got the
// App's answer) has fewer than diffMaxShrunkPerID minimal requests yet.
// Shrinking only makes dimensions plain, so no other requirement can come
// of it; which requirements fail is therefore the same as if every
// difference were shrunk, whatever the corpus order, and only the evidence
// per requirement is bounded.
func shrinkMayAdd(byID map[string][]diffResult, q diffReq, plainPassed bool) bool {
	if !plainPassed && len(byID["DIFF-4"]) < diffMaxShrunkPerID {
		return true
	}
	for _, d := range q.varied() {
		if len(byID[diffGroup(d)]) < diffMaxShrunkPerID {
			return true
		}
	}
	return false
}

// registerDiff registers the DIFF specs on a host.
func registerDiff(h *hostEnv) {
	titles := map[string]string{
		"DIFF-1": "the corpus's methods, bodies and framings get the App's answer",
		"DIFF-2": "the corpus's header variants get the App's answer",
		"DIFF-3": "the corpus's path and query variants get the App's answer",
		"DIFF-4": "each route's plain request gets the App's answer",
		"DIFF-5": "the corpus's requests from an IPv6 peer get the App's answer",
	}
	for _, id := range diffIDs {
		h.it(id, titles[id], func(ctx ginkgo.SpecContext) {
			if id == "DIFF-5" && h.http6 == nil {
				ginkgo.Skip("cannot be checked: the host has no listener on the IPv6 loopback (the machine has no ::1), so the corpus came from IPv4 only")
			}
			run := h.runDiff(ctx)
			found := run.byID[id]
			if len(found) == 0 {
				return
			}
			sort.SliceStable(found, func(i, j int) bool { return len(found[i].req.varied()) < len(found[j].req.varied()) })
			for _, r := range found[:min(len(found), 3)] {
				attach(r.ex)
			}
			ginkgo.Fail(diffMessage(id, run, found))
		})
	}
}

func diffMessage(id string, run *diffRun, found []diffResult) string {
	var b strings.Builder
	req, _ := RequirementByID(id)
	fmt.Fprintf(&b, "%s (%s): %s\n", id, req.Level, req.Text)
	r := found[0]
	if v := r.req.varied(); len(v) > 0 {
		var names []string
		for _, d := range r.matters() {
			names = append(names, dimNames[d]+" ("+dimValueName(d, r.req.dims[d])+")")
		}
		fmt.Fprintf(&b, "expected: the App's answer; the minimal request that differs is %s: the dimension that matters is %s; got %s\n", r.req.describe(), strings.Join(names, " with "), r.diff)
	} else {
		fmt.Fprintf(&b, "expected: the App's answer to %s; got %s\n", r.req.describe(), r.diff)
	}
	count := strconv.Itoa(len(found))
	if len(found) >= diffMaxShrunkPerID {
		count = "at least " + count // shrinking stopped there
	}
	fmt.Fprintf(&b, "corpus: seed %d, %d requests sent; %s minimal request(s) differ under %s; rerun with --seed %d --focus %s\n", run.seed, run.sent, count, id, run.seed, id)
	fmt.Fprintf(&b, "exchange with the %s host (%s):\n%s", r.ex.hostInfo.Shape, r.ex.hostInfo.Export, r.ex.dump())
	if r.want.file {
		fmt.Fprintf(&b, "the public file's answer (status, bytes, and the media type for .svg and .txt):\n  < %d\n", r.want.status)
	} else {
		fmt.Fprintf(&b, "what the App answers to the same request:\n  < %d\n", r.want.status)
	}
	writeHeaders(&b, "  < ", r.want.header)
	fmt.Fprintf(&b, "  < (%d body bytes) %s\n", len(r.want.body), excerpt(r.want.body))
	for _, c := range r.contrasts {
		if !slices.Contains(r.matters(), c.dim) {
			continue
		}
		fmt.Fprintf(&b, "contrast (%s made plain): %s it arrives intact, and the App's answer comes back:\n%s", dimNames[c.dim], plainPhrase[c.dim], c.ex.dump())
	}
	for _, o := range found[1:min(len(found), 5)] {
		fmt.Fprintf(&b, "also: %s %s: %s: %s\n", o.ex.method, o.ex.target, o.req.describe(), o.diff)
	}
	return b.String()
}

// diffMaxShrunkPerID bounds the minimal requests kept per DIFF
// requirement and host: past it, the requirement has its evidence (the
// message shows five) and shrinking more only costs time. The bound is per
// requirement, not per host, so that one requirement's many differences
// never crowd out another's (see shrinkMayAdd).
const diffMaxShrunkPerID = 10

// diffConcurrency is how many corpus requests are in flight at once. One:
// in corpus order, a stateful adapter's differences (a restart after a
// failing route, B17) come out the same for the same seed, and in process
// eight at a time was no faster on the kit's 2-core CI machine (measured:
// the corpus of one host takes 0.1 to 0.3 s either way). Concurrency is
// EXPORT-3's business.
var diffConcurrency = 1
