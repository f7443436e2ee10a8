package app_test

import (
	"bytes"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/fixtures"
)

// Every table row names the fact of ../shared/reference/astro-behavior.md it
// reproduces in its ref field, so a failure points at the ground truth.

var (
	appsMu sync.Mutex
	apps   = map[string]*app.App{}
)

// loadApp returns the App of a fixture ("basic", "no-404", ...), or of a test
// app under testdata ("testdata/extra"). Apps are safe for concurrent use, so
// one App per fixture is shared by all tests.
func loadApp(tb testing.TB, fixture string) *app.App {
	tb.Helper()
	appsMu.Lock()
	defer appsMu.Unlock()
	if a := apps[fixture]; a != nil {
		return a
	}
	m := loadManifest(tb, fixture)
	a, err := app.New(m)
	if err != nil {
		tb.Fatalf("app.New(%s): %v", fixture, err)
	}
	apps[fixture] = a
	return a
}

func loadManifest(tb testing.TB, fixture string) *app.Manifest {
	tb.Helper()
	var (
		m   *app.Manifest
		err error
	)
	if dir, ok := strings.CutPrefix(fixture, "testdata/"); ok {
		m, err = app.LoadManifest(filepath.Join("testdata", dir))
	} else {
		m, err = fixtures.Load(fixture)
	}
	if err != nil {
		tb.Fatalf("loading %s: %v", fixture, err)
	}
	return m
}

// newRequest builds a request for a raw request target, as a Go server
// would hand it to an adapter: the path keeps its percent-encoding
// (URL.EscapedPath returns it as sent).
//
// An unsafe method carries the request's own origin as Origin, as a browser
// sends it, so that Astro's origin check (astro-behavior §3) lets it through
// and a test means what it meant before the App had the check; the origin
// check's own tests build their requests with crossSite.
func newRequest(method, target string, body io.Reader) *http.Request {
	r := newRequestNoOrigin(method, target, body)
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		r.Header.Set("Origin", app.RequestOrigin(r))
	}
	return r
}

// newRequestNoOrigin is newRequest without the Origin header.
func newRequestNoOrigin(method, target string, body io.Reader) *http.Request {
	if method == "" {
		method = http.MethodGet
	}
	if _, err := url.ParseRequestURI(target); err == nil {
		return httptest.NewRequest(method, target, body)
	}
	// Go cannot parse the target (a malformed escape such as %ZZ): a Go
	// server would answer 400 itself. Build the URL by hand, as a non-Go
	// front end might; EscapedPath then writes the stray '%' as %25.
	r := httptest.NewRequest(method, "/", body)
	p, q, _ := strings.Cut(target, "?")
	r.URL = &url.URL{Path: p, RawQuery: q}
	r.RequestURI = target
	return r
}

// do renders r, reads the whole body and checks that nothing of Go's
// internals (a panic message, a stack trace) leaked into it
// (astro-behavior §6: stack traces never reach the body).
func do(tb testing.TB, a *app.App, r *http.Request, opts ...app.RenderOption) (*http.Response, []byte) {
	tb.Helper()
	resp := a.Render(r, opts...)
	if resp == nil {
		tb.Fatalf("Render(%s %s) returned nil", r.Method, r.RequestURI)
	}
	if resp.Header == nil || resp.Body == nil {
		tb.Fatalf("Render(%s %s): nil Header or Body", r.Method, r.RequestURI)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		tb.Fatalf("Render(%s %s): reading the body: %v", r.Method, r.RequestURI, err)
	}
	checkNoLeak(tb, body)
	return resp, body
}

// get is do for a method and a raw target.
func get(tb testing.TB, a *app.App, method, target string, opts ...app.RenderOption) (*http.Response, []byte) {
	tb.Helper()
	return do(tb, a, newRequest(method, target, nil), opts...)
}

func checkNoLeak(tb testing.TB, body []byte) {
	tb.Helper()
	for _, bad := range []string{"panic:", "goroutine ", "runtime/debug", ".go:"} {
		if bytes.Contains(body, []byte(bad)) {
			tb.Errorf("body leaks Go internals (%q): %.300s", bad, body)
		}
	}
}

// page is what app.ParsePageMarkers reads back out of a page body.
type page struct {
	route    string
	params   map[string]string
	pathname string
}

func parsePage(body []byte) (page, bool) {
	route, params, pathname, ok := app.ParsePageMarkers(body)
	return page{route, params, pathname}, ok
}

// checkPage asserts that body is the page of route with params (nil means
// none) and, when pathname is not empty, that Astro.url.pathname is pathname.
func checkPage(tb testing.TB, body []byte, route string, params map[string]string, pathname string) {
	tb.Helper()
	p, ok := parsePage(body)
	if !ok {
		tb.Errorf("body is not a page with markers: %.300s", body)
		return
	}
	if p.route != route {
		tb.Errorf("rendered route %q, want %q", p.route, route)
	}
	if params == nil {
		params = map[string]string{}
	}
	if p.params == nil {
		p.params = map[string]string{}
	}
	if !maps.Equal(p.params, params) {
		tb.Errorf("params %v, want %v", p.params, params)
	}
	if pathname != "" && p.pathname != pathname {
		tb.Errorf("Astro.url.pathname %q, want %q", p.pathname, pathname)
	}
}

// checkEmptyNoType asserts an empty body and no Content-Type (the 400 of a
// MultiLevelEncodingError, the 500 without a 500 page, 204/304).
func checkEmptyNoType(tb testing.TB, resp *http.Response, body []byte) {
	tb.Helper()
	if len(body) != 0 {
		tb.Errorf("body is %d bytes, want none: %.200s", len(body), body)
	}
	if ct := resp.Header.Values("Content-Type"); len(ct) != 0 {
		tb.Errorf("Content-Type %q, want none", ct)
	}
}

// rowName makes a readable subtest name from a row's parts.
func rowName(parts ...string) string {
	parts = slices.DeleteFunc(parts, func(s string) bool { return s == "" })
	return strings.Join(parts, " ")
}
