package suite

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"

	"github.com/adapterconformance/adapter-conformance/app"
)

// Differential testing (DIFF-1..5): a corpus of requests generated from the
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
// fixture: under the race detector one costs about a quarter of a second
// through a Lambda gateway, ten times a 64 KiB one, which elsewhere tells
// as much). On
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

// binaryBodySize is the size of a corpus request's binary body; 0 for the
// other bodies, which are a few bytes at most.
func (d diffReq) binaryBodySize() int {
	switch diffBodies[d.dims[dimBody]] {
	case "binary-64KiB":
		return 64 << 10
	case "binary-1MiB":
		return 1 << 20
	}
	return 0
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
	case "binary-64KiB", "binary-1MiB":
		body, ct = binaryBody(d.binaryBodySize()), "application/octet-stream"
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
// in 256 bytes, so a byte dropped or moved changes the hash: the App's
// large body, made once per size and shared (requests only read it), not
// made again for each request (issue 19 item 6).
func binaryBody(n int) []byte {
	b, _ := app.LargeBody(n)
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
