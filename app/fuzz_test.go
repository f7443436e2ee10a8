package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/adapterconformance/adapter-conformance/app"
)

var fuzzMethods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "PROPFIND"}

// fuzzRequest turns arbitrary text into a request target the way a server
// would: parsed when Go can parse it, otherwise put into URL.Path as is.
func fuzzRequest(method, target string) *http.Request {
	r := &http.Request{Method: method, Host: "localhost", Header: http.Header{}, Body: http.NoBody}
	if u, err := url.ParseRequestURI(target); err == nil {
		r.URL = u
	} else {
		p, q, _ := strings.Cut(target, "?")
		r.URL = &url.URL{Path: p, RawQuery: q}
	}
	r.RequestURI = target
	return r
}

// renderFuzz renders r with a context that is already cancelled, and reads
// at most limit bytes of the body: nothing the fuzzer drives may wait, or a
// mutated input that reaches a slow route (a stream with a long
// delayMillis) would stall the fuzzer for seconds at a time.
func renderFuzz(t *testing.T, a *app.App, r *http.Request, limit int64) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	resp := a.Render(r.WithContext(ctx))
	if resp == nil || resp.Body == nil || resp.Header == nil {
		t.Fatalf("Render(%s %q) returned %#v", r.Method, r.RequestURI, resp)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, limit))
	resp.Body.Close()
	return resp, body
}

// The statuses Render gives for the basic fixture, apart from what
// /api/status/[code] passes through (astro-behavior §1, §2, §3, §5, §6, §7, §10;
// 403 is the origin check's).
var basicStatuses = map[int]bool{200: true, 301: true, 302: true, 307: true, 308: true, 400: true, 403: true, 404: true, 500: true}

// Routes of the basic fixture that answer 404 although they matched.
var matched404 = map[string]bool{"/404": true, "/api/null-404": true, "/page-null-404": true, "/api/status/[code]": true}

func FuzzMatch(f *testing.F) {
	for _, s := range []string{
		"/", "/about", "/blog/first-post", "/blog/%2561", enc10, enc11, "/blog/%25%25%2561", "/unicode/%ZZ",
		"/blog/../about", "/blog/%2e%2e/about", "//about", "/blog//first-post", "/about//?x=1", "/docs", "/docs/a%2Fb/c",
		"/api/status/418", "/api/status/204", "/api/stream?delayMillis=5000", "/404/", "/robots.txt", "/assets/logo.svg",
		"/blog/.html", "/blog/x.html", "//", "/%2e", "/about/%2e%2e/%2e%2e/blog/a", "/blog/caf%C3%A9", "/blog/%F0%9F",
		"/api/echo-path/%25%32%46", "http://x/about?y", "*", "", "/_x//", "/api//status/999",
	} {
		f.Add(s, uint8(0))
	}
	f.Add("/api/echo", uint8(3))
	f.Add("/api/only-get", uint8(2))
	f.Add("/api/cookies", uint8(1))
	a := loadApp(f, "basic")
	f.Fuzz(func(t *testing.T, target string, m uint8) {
		method := fuzzMethods[int(m)%len(fuzzMethods)]
		r := fuzzRequest(method, target)
		route := a.Match(r)
		mp := a.MatchParams(r)
		if (route == nil) != (mp == nil) || route != nil && mp.Route != route {
			t.Fatalf("Match %v and MatchParams %v disagree for %q", route, mp, target)
		}
		resp, body := renderFuzz(t, a, r, 1<<16)
		code := resp.StatusCode
		passedThrough := strings.HasPrefix(resp.Status, fmt.Sprintf("%d Custom ", code)) || code == 204 || code == 205 || code == 304
		if !basicStatuses[code] && !passedThrough {
			t.Fatalf("%s %q: status %q is not one Render gives", method, target, resp.Status)
		}
		if code < 200 || code > 599 {
			t.Fatalf("%s %q: status %d is not a valid HTTP status", method, target, code)
		}
		for _, bad := range []string{"panic", "goroutine ", ".go:"} {
			if strings.Contains(string(body), bad) {
				t.Fatalf("%s %q: body leaks %q: %.200s", method, target, bad, body)
			}
		}
		if route == nil || (method != "GET" && method != "HEAD") {
			return
		}
		// A matched GET or HEAD is never a 404, unless the route itself says so.
		if code == 404 && !matched404[route.Pattern] {
			t.Fatalf("%s %q: Match gives %s but Render gives 404", method, target, route.Pattern)
		}
		// And a page Render renders is the route Match found.
		if p, ok := parsePage(body); ok && code == 200 && p.route != route.Pattern {
			t.Fatalf("%s %q: Match gives %s but Render renders %s", method, target, route.Pattern, p.route)
		}
	})
}

func FuzzParseManifest(f *testing.F) {
	basic, err := jsonOf(loadManifest(f, "basic"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		string(basic),
		`{"name":"x","routes":[{"route":"/","type":"page"}]}`,
		`{"name":"x","base":"/app/","trailingSlash":"always","routes":[{"route":"/[a]/[...b]","type":"page"},{"route":"/a","type":"page"}]}`,
		`{"name":"x","trailingSlash":"never","routes":[{"route":"/[...all]","type":"endpoint","handlers":{"ALL":{"action":"echo"}}}]}`,
		`{"name":"x","routes":[{"route":"/404","type":"page","page":{"action":"throws"}},{"route":"/500","type":"page","page":{"action":"null","status":500}}]}`,
		`{"name":"x","routes":[{"route":"/404","type":"page","page":{"action":"null","status":404}}]}`,
		`{"name":"x","routes":[{"route":"/404","type":"endpoint","handlers":{"GET":{"action":"null","status":404}}}]}`,
		`{"name":"x","routes":[{"route":"/s/[code]","type":"endpoint","handlers":{"GET":{"action":"status"}}}]}`,
		`{"name":"x","routes":[{"route":"/t","type":"endpoint","handlers":{"GET":{"action":"text","status":1000}}}]}`,
		`{"name":"x","routes":[{"route":"/n","type":"endpoint","handlers":{"GET":{"action":"null"}}},{"route":"/p","type":"page","page":{"action":"status"}}]}`,
		`{"name":"x","routes":[{"route":"/c","type":"page","page":{"action":"cookies","cookies":[{"name":"a","value":"é ;","sameSite":"STRICT","maxAge":-1}]}}]}`,
		`{"name":"x","routes":[{"route":"/s","type":"endpoint","handlers":{"GET":{"action":"stream","chunks":100000}}}]}`,
		`{"name":"x","routes":[{"route":"/r","type":"endpoint","handlers":{"GET":{"action":"redirect","location":"//evil\r\nx"}}}]}`,
		`{"name":"x","routes":[{"route":"/l","type":"endpoint","handlers":{"GET":{"action":"large","size":1000}}}]}`,
		`{"name":"x","routes":[{"route":"/[a]","type":"page"},{"route":"/[b]","type":"page"}]}`,
		`{"name":"x","routes":[null]}`,
		`{"name":"x","routes":[{"route":"/a[b]","type":"page"}]}`,
		`{"name":"x","routes":[]}`,
		`{"name":"x","routes":[{"route":"/","type":"page"}]} {}`,
		`{"NAME":"x","Routes":[{"ROUTE":"/","type":"page"}]}`,
		`[]`, `null`, ``, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := app.ParseManifest(data, "fuzz.json")
		if err != nil {
			var me *app.ManifestError
			if !errors.As(err, &me) {
				t.Fatalf("ParseManifest error %T is not a *ManifestError: %v", err, err)
			}
			if m != nil {
				t.Fatal("ParseManifest returned a manifest with an error")
			}
			return
		}
		a, err := app.New(m)
		if err != nil {
			t.Fatalf("ParseManifest accepted a manifest New rejects: %v", err)
		}
		// The fixtures write merged manifests back as JSON and parse them
		// again: what ParseManifest accepts must survive that round trip.
		once, err := jsonOf(m)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		m2, err := app.ParseManifest(once, "again.json")
		if err != nil {
			t.Fatalf("a parsed manifest does not parse again: %v\n%s", err, once)
		}
		if twice, _ := jsonOf(m2); string(twice) != string(once) {
			t.Fatalf("the JSON round trip changes the manifest:\n%s\n%s", once, twice)
		}
		if !renderable(m) {
			return
		}
		targets := []string{"/", "/404", "/500", "/nope", "/nope/", "//x//", "/%2561"}
		for _, r := range m.Routes {
			targets = append(targets, instantiate(r))
		}
		for _, target := range targets {
			for _, method := range []string{"GET", "HEAD", "POST"} {
				r := fuzzRequest(method, target)
				a.Match(r)
				resp, _ := renderFuzz(t, a, r, 1<<16)
				if resp.StatusCode < 100 || resp.StatusCode > 599 {
					t.Fatalf("%s %s: status %d is not a valid HTTP status", method, target, resp.StatusCode)
				}
			}
		}
	})
}

// renderable leaves out manifests whose renders would only measure memory:
// a "large" body is built in full and cached per size.
func renderable(m *app.Manifest) bool {
	for _, r := range m.Routes {
		for _, h := range r.Handlers {
			if h.Kind == "large" && h.Size > 1<<12 {
				return false
			}
		}
	}
	return true
}

// instantiate fills a pattern's params: "/blog/[slug]" gives "/blog/x".
func instantiate(r *app.Route) string {
	parts := strings.Split(r.Pattern, "/")
	for i, p := range parts {
		switch {
		case strings.HasPrefix(p, "[..."):
			parts[i] = "a/b"
		case strings.HasPrefix(p, "["):
			parts[i] = "200"
		}
	}
	return strings.Join(parts, "/")
}

func jsonOf(m *app.Manifest) ([]byte, error) { return json.Marshal(m) }
