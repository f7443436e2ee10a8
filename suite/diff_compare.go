package suite

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/runner/lambdahost"
)

// How an answer is compared with the App's for the differential corpus
// (DIFF-1..5): as HTTP defines equality, an echo apart from what a host
// may change, a public file as a file server answers it. The corpus is
// diff.go's; sending, shrinking and reporting are diff_run.go's.

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
	return appAnswerTo(a, ex, referenceRequest(ex))
}

func appAnswerTo(a *app.App, ex *exchange, r *http.Request) diffAnswer {
	resp := a.Render(r, app.AddCookieHeader(), app.ClientAddress(ex.clientIP()))
	ans := diffAnswer{status: resp.StatusCode, header: resp.Header}
	if resp.Body != nil {
		ans.body, _ = readResponseBody(resp, math.MaxInt64)
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
	// generality is, for a minimal difference whose dimensions that matter
	// span requirements, the share of each one's other values with which
	// the difference still shows (see shrink's carriers).
	generality map[int]float64
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

// exchangeFault says why an exchange has no whole answer to compare (no
// response, or a body that could not be read), or "".
func exchangeFault(ex *exchange) string {
	if ex.resp == nil {
		return fmt.Sprintf("no response (%v)", ex.err)
	}
	if ex.err != nil {
		return fmt.Sprintf("the body could not be read (%v)", ex.err)
	}
	return ""
}

// diffCompare says how the adapter's answer differs from the App's, or "".
func diffCompare(ex *exchange, want diffAnswer) string {
	if f := exchangeFault(ex); f != "" {
		return f
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
		if framingHeaders[http.CanonicalHeaderKey(name)] || name == lambdahost.RequestIDHeader {
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

// restKeyOrders are the App's answers to the exchange's request with the
// distinct keys of its query in each other order, for a REST host. A REST
// API hands the function its query as maps (queryStringParameters,
// multiValueQueryStringParameters: aws-gateway-facts, query strings), JSON
// objects whose members have no order (RFC 8259 §4), so the order of
// distinct keys is lost on the way: an adapter rebuilds it in an order of
// its own (sorted, as the kit's good adapter does, or a Go map's, as
// aws-lambda-go-api-proxy's httpadapter does), and the App's answer to any
// of those orders is right; the order of one key's values survives in its
// list. SPEC.md, DIFF allowed differences. At most 4 distinct keys are
// permuted (the corpus's queries have 2).
func restKeyOrders(a *app.App, ex *exchange) []diffAnswer {
	path, query, ok := strings.Cut(ex.target, "?")
	if !ok {
		return nil
	}
	var keys []string
	byKey := map[string][]string{}
	for p := range strings.SplitSeq(query, "&") {
		k, _, _ := strings.Cut(p, "=")
		if _, seen := byKey[k]; !seen {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], p)
	}
	if len(keys) < 2 || len(keys) > 4 {
		return nil
	}
	var out []diffAnswer
	for _, order := range permutations(keys)[1:] {
		var pairs []string
		for _, k := range order {
			pairs = append(pairs, byKey[k]...)
		}
		r := referenceRequest(ex)
		r.URL.RawQuery = strings.Join(pairs, "&")
		r.RequestURI = path + "?" + r.URL.RawQuery
		out = append(out, appAnswerTo(a, ex, r))
	}
	return out
}

// permutations lists every order of s, s itself first.
func permutations(s []string) [][]string {
	if len(s) <= 1 {
		return [][]string{slices.Clone(s)}
	}
	var out [][]string
	for i := range s {
		rest := slices.Concat(s[:i:i], s[i+1:])
		for _, p := range permutations(rest) {
			out = append(out, append([]string{s[i]}, p...))
		}
	}
	return out
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
	if f := exchangeFault(ex); f != "" {
		return f
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
