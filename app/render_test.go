package app_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/adapterconformance/adapter-conformance/app"
)

// respRow is a request through app.Render checked on status, status line,
// headers and body.
type respRow struct {
	fixture    string
	method     string
	target     string
	header     http.Header // request headers
	status     int
	statusLine string // resp.Status, when set
	ctype      string // exact Content-Type; "-" means none
	body       string // exact body, when set
	bodyHas    string // substring of the body, when set
	empty      bool   // no body bytes
	route      string // page marker route, when the body is a page
	headers    map[string][]string
	noHeaders  []string // headers that must be absent
	ref        string
}

func (row respRow) run(t *testing.T) {
	t.Helper()
	fixture := row.fixture
	if fixture == "" {
		fixture = "basic"
	}
	r := newRequest(row.method, row.target, nil)
	for k, vs := range row.header {
		r.Header[k] = vs
	}
	resp, body := do(t, loadApp(t, fixture), r, app.AddCookieHeader())
	if resp.StatusCode != row.status {
		t.Fatalf("%s %s on %s: status %d, want %d (%s)\nbody: %.300s", row.method, row.target, fixture, resp.StatusCode, row.status, row.ref, body)
	}
	if row.statusLine != "" && resp.Status != row.statusLine {
		t.Errorf("status line %q, want %q (%s)", resp.Status, row.statusLine, row.ref)
	}
	switch ct := resp.Header.Values("Content-Type"); {
	case row.ctype == "-" && len(ct) != 0:
		t.Errorf("Content-Type %q, want none (%s)", ct, row.ref)
	case row.ctype != "" && row.ctype != "-" && (len(ct) != 1 || ct[0] != row.ctype):
		t.Errorf("Content-Type %q, want %q (%s)", ct, row.ctype, row.ref)
	}
	if row.body != "" && string(body) != row.body {
		t.Errorf("body %q, want %q (%s)", body, row.body, row.ref)
	}
	if row.bodyHas != "" && !strings.Contains(string(body), row.bodyHas) {
		t.Errorf("body lacks %q (%s): %.400s", row.bodyHas, row.ref, body)
	}
	if row.empty && len(body) != 0 {
		t.Errorf("body is %d bytes, want none (%s): %.200s", len(body), row.ref, body)
	}
	if row.route != "" {
		p, ok := parsePage(body)
		if !ok || p.route != row.route {
			t.Errorf("rendered page %q (markers found: %v), want %q (%s)", p.route, ok, row.route, row.ref)
		}
	}
	for k, want := range row.headers {
		if got := resp.Header.Values(k); !slices.Equal(got, want) {
			t.Errorf("header %s = %q, want %q (%s)", k, got, want, row.ref)
		}
	}
	for _, k := range row.noHeaders {
		if v := resp.Header.Values(k); len(v) != 0 {
			t.Errorf("header %s = %q, want none (%s)", k, v, row.ref)
		}
	}
}

func runRows(t *testing.T, rows []respRow) {
	t.Helper()
	for _, row := range rows {
		t.Run(rowName(row.fixture, row.method, row.target), row.run)
	}
}

var (
	// Astro adds no other headers to SSR output (astro-behavior §9).
	notAdded   = []string{"X-Powered-By", "Etag", "Content-Encoding", "Allow", "Location", "Set-Cookie"}
	allCookies = []string{
		"raw_c=3; Path=/",
		"raw_d=4; Path=/; Secure",
		"raw_e=5; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT",
		"astro_a=1; Path=/; HttpOnly",
		"astro_b=two%20words; Max-Age=60; Path=/api; SameSite=Lax",
	}
)

func TestRenderPages(t *testing.T) {
	runRows(t, []respRow{
		{target: "/about", status: 200, statusLine: "200 OK", ctype: "text/html", route: "/about", noHeaders: notAdded, ref: "astro-behavior §9: pages get content-type text/html (no charset) and no other headers"},
		{target: "/about", header: http.Header{"Accept-Encoding": {"gzip, br"}}, status: 200, ctype: "text/html", route: "/about", noHeaders: notAdded, ref: "astro-behavior §9: no compression whatever the Accept-Encoding (#151, #152)"},
		{method: "HEAD", target: "/about", status: 200, ctype: "text/html", route: "/about", ref: "astro-behavior §4, §13.8: app.render() itself still returns the full body for a HEAD on a page"},
		{method: "POST", target: "/about", header: http.Header{"Content-Type": {"application/json"}}, status: 200, ctype: "text/html", route: "/about", bodyHas: `data-method="POST"`, ref: "astro-behavior §3: POST (json) on a page: 200, the page renders with Astro.request.method=POST"},
		{method: "PUT", target: "/about", header: http.Header{"Content-Type": {"application/json"}}, status: 200, route: "/about", ref: "astro-behavior §3: PUT (json) on a page: 200"},
		{method: "OPTIONS", target: "/about", status: 200, route: "/about", ref: "astro-behavior §3: OPTIONS on a page: 200 (renders)"},
		{target: "/page-redirect", status: 302, headers: location("/blog/first-post"), empty: true, ctype: "-", ref: "astro-behavior §10: Astro.redirect in a page gives 302 with an empty body"},
	})
}

// location is a helper that makes a redirect row readable.
func location(l string) map[string][]string { return map[string][]string{"Location": {l}} }

func TestEndpointMethods(t *testing.T) {
	runRows(t, []respRow{
		{target: "/api/echo", status: 200, ctype: "application/json", bodyHas: `"method":"GET"`, ref: "astro-behavior §3: echo.ts GET: 200"},
		{method: "POST", target: "/api/echo", status: 200, bodyHas: `"method":"POST"`, ref: "astro-behavior §3: echo.ts POST (json): 200"},
		{method: "HEAD", target: "/api/echo", status: 200, ctype: "application/json", empty: true, ref: "astro-behavior §3, §4: echo.ts HEAD: 200 (GET handler, body dropped, headers kept)"},
		{method: "PUT", target: "/api/echo", status: 404, ctype: "text/html", route: "/404", noHeaders: []string{"Allow"}, ref: "astro-behavior §3: PUT on echo.ts: 404 + 404 page, never 405, no Allow"},
		{method: "PATCH", target: "/api/echo", status: 404, route: "/404", noHeaders: []string{"Allow"}, ref: "astro-behavior §3: PATCH on echo.ts: 404 + 404 page"},
		{method: "OPTIONS", target: "/api/echo", status: 404, route: "/404", noHeaders: []string{"Allow"}, ref: "astro-behavior §3: OPTIONS on echo.ts: 404 + 404 page"},
		{target: "/api/only-get", status: 200, body: "only get", ref: "astro-behavior §3: only-get.ts GET: 200"},
		{method: "HEAD", target: "/api/only-get", status: 200, ctype: "text/plain;charset=utf-8", empty: true, ref: "astro-behavior §3, §4: only-get.ts HEAD falls back to GET, no body"},
		{method: "POST", target: "/api/only-get", status: 404, route: "/404", noHeaders: []string{"Allow"}, ref: "astro-behavior §3: POST on only-get.ts: 404 + 404 page"},
		{method: "PUT", target: "/api/only-get", status: 404, route: "/404", ref: "astro-behavior §3: PUT on only-get.ts: 404 + 404 page"},
		{method: "OPTIONS", target: "/api/only-get", status: 404, route: "/404", ref: "astro-behavior §3: OPTIONS on only-get.ts: 404 + 404 page"},
		{method: "POST", target: "/api/throws", status: 404, route: "/404", ref: "astro-behavior §3: POST /api/throws (only GET exported) gives the 404 page"},
		{fixture: "no-404", method: "PUT", target: "/api/echo", status: 404, ctype: "text/html", bodyHas: "<title>404: Not Found</title>", ref: "astro-behavior §3: the null-body 404 is rerouted to the default page when there is no custom one"},
		{target: "/api/all", status: 200, body: "all", ref: "astro-behavior §3: all.ts GET: 200"},
		{method: "HEAD", target: "/api/all", status: 200, empty: true, ref: "astro-behavior §3: all.ts HEAD: ALL handler, body dropped"},
		{method: "POST", target: "/api/all", status: 200, body: "all", ref: "astro-behavior §3: all.ts POST: 200"},
		{method: "PUT", target: "/api/all", status: 200, body: "all", ref: "astro-behavior §3: all.ts PUT: 200"},
		{method: "PATCH", target: "/api/all", status: 200, body: "all", ref: "astro-behavior §3: all.ts PATCH: 200"},
		{method: "OPTIONS", target: "/api/all", status: 200, body: "all", ref: "astro-behavior §3: all.ts OPTIONS: 200"},
		{method: "DELETE", target: "/api/all", header: http.Header{"Origin": {"http://example.com"}}, status: 200, body: "all", ref: "astro-behavior §3: all.ts DELETE: 200 with a same-origin Origin (checkOrigin is not modelled, SPEC Not covered)"},
		{method: "PROPFIND", target: "/api/echo-all", header: http.Header{"Origin": {"http://example.com"}}, status: 200, bodyHas: `"method":"PROPFIND"`, ref: "astro-behavior §3: an ALL handler gets any method (SPEC HTTP-1)"},
		// HEAD uses HEAD, then ALL, then GET.
		{fixture: "testdata/extra", method: "HEAD", target: "/h/head-all-get", status: 200, empty: true, headers: map[string][]string{"X-Handler": {"HEAD"}}, ref: "astro-behavior §4: HEAD uses the HEAD export first"},
		{fixture: "testdata/extra", method: "HEAD", target: "/h/all-get", status: 200, empty: true, headers: map[string][]string{"X-Handler": {"ALL"}}, ref: "astro-behavior §4: HEAD uses ALL before GET"},
		{fixture: "testdata/extra", method: "HEAD", target: "/h/get", status: 200, empty: true, headers: map[string][]string{"X-Handler": {"GET"}}, ref: "astro-behavior §4: HEAD falls back to GET last"},
		{fixture: "testdata/extra", target: "/h/all-get", status: 200, body: "get", headers: map[string][]string{"X-Handler": {"GET"}}, ref: "astro-behavior §3: a method's own handler wins over ALL"},
		{fixture: "testdata/extra", method: "POST", target: "/h/all-get", status: 200, body: "all", headers: map[string][]string{"X-Handler": {"ALL"}}, ref: "astro-behavior §3: ALL takes the other methods"},
		{fixture: "testdata/extra", method: "POST", target: "/h/get", status: 404, route: "", ctype: "text/html", bodyHas: "404: Not Found", ref: "astro-behavior §3: a method without a handler gives the (default) 404 page, never 405"},
		{method: "HEAD", target: "/api/cookies", status: 200, empty: true, ctype: "application/json", headers: map[string][]string{"Set-Cookie": allCookies}, ref: "astro-behavior §4: HEAD keeps the headers and all Set-Cookie headers (#164)"},
		{method: "HEAD", target: "/api/headers", status: 200, empty: true, headers: map[string][]string{"X-Multi": {"one", "two"}}, ref: "astro-behavior §4: new Response(null, response) keeps the headers"},
	})
}

func TestNotFound(t *testing.T) {
	runRows(t, []respRow{
		{target: "/nope", status: 404, statusLine: "404 Not Found", ctype: "text/html", route: "/404", bodyHas: "Custom 404", ref: "astro-behavior §5: unmatched: 404 text/html, custom page, statusText Not Found"},
		{target: "/404", status: 404, statusLine: "404 Not Found", route: "/404", ref: "astro-behavior §5: the status of a 404-page response is always forced to 404"},
		{target: "/404/", status: 404, route: "/404", ref: "astro-behavior §5: /404/ directly: 404 + custom page"},
		{target: "/nope", header: http.Header{"Accept": {"application/json"}}, status: 404, ctype: "text/html", route: "/404", ref: "astro-behavior §5: Accept: application/json on unmatched: same HTML 404"},
		{method: "HEAD", target: "/nope", status: 404, ctype: "text/html", ref: "astro-behavior §4: HEAD on an unmatched path: 404 with the 404 page's content-type"},
		{fixture: "no-404", target: "/nope", status: 404, statusLine: "404 Not Found", ctype: "text/html", bodyHas: "<title>404: Not Found</title>", ref: "astro-behavior §5: no 404 page: Astro's built-in page, <title>404: Not Found</title>"},
		{fixture: "no-404", target: "/nope", status: 404, bodyHas: "<pre>Path: /nope</pre>", ref: "astro-behavior §5: the default page shows <pre>Path: /nope</pre>"},
		{fixture: "no-404", target: "/nope%3Cb%3E?q=1", status: 404, bodyHas: "<pre>Path: /nope&lt;b&gt;</pre>", ref: "astro-behavior §5: the path is decoded and HTML-escaped, no query: /nope%3Cb%3E?q=1 shows Path: /nope&lt;b&gt;"},
		{fixture: "no-404", target: "/caf%C3%A9", status: 404, bodyHas: "<pre>Path: /café</pre>", ref: "astro-behavior §5: the default page's path is decoded"},
		{fixture: "no-404", target: "/404", status: 404, statusLine: "404 Not Found", bodyHas: "<title>404: Not Found</title>", ref: "astro-behavior §5: /404 with no 404 page: 404 + default page"},
		{fixture: "no-404", target: "/404/", status: 404, bodyHas: "<title>404: Not Found</title>", ref: "astro-behavior §5: /404/ with no 404 page: 404 + default page"},
		{fixture: "no-404", target: "/404.html", status: 404, bodyHas: "<title>404: Not Found</title>", ref: "astro-behavior §5: /404.html with no 404 page: 404 + default page"},
	})
	// The default page's text never carries the query.
	_, body := get(t, loadApp(t, "no-404"), "GET", "/nope%3Cb%3E?q=1")
	if strings.Contains(string(body), "q=1") || strings.Contains(string(body), "<b>") {
		t.Errorf("default 404 page shows the query or unescaped HTML (astro-behavior §5): %s", body)
	}
}

func TestErrors(t *testing.T) {
	const ise = "500 Internal Server Error"
	runRows(t, []respRow{
		{target: "/api/throws", status: 500, statusLine: ise, ctype: "-", empty: true, ref: "astro-behavior §6: endpoint throws, no 500 page: 500, empty body, no content-type, statusText Internal Server Error"},
		{target: "/page-throws", status: 500, statusLine: ise, ctype: "-", empty: true, ref: "astro-behavior §6: page throws, no 500 page: 500 empty, no content-type"},
		{target: "/api/invalid-status", status: 500, ctype: "-", empty: true, ref: "astro-behavior §6: endpoint builds an invalid Response (status NaN): 500 empty"},
		{target: "/api/status/abc", status: 500, ctype: "-", empty: true, ref: "astro-behavior §6: /api/status/abc: 500 empty"},
		{fixture: "no-404", target: "/api/throws", status: 500, ctype: "-", empty: true, ref: "astro-behavior §6: same in the without-404 build"},
		{fixture: "with-500", target: "/api/throws", status: 500, statusLine: ise, ctype: "text/html", route: "/500", bodyHas: "data-error=", ref: "astro-behavior §6: with 500.astro: 500 text/html, the 500 page with error.message"},
		{fixture: "with-500", target: "/page-throws", status: 500, ctype: "text/html", route: "/500", ref: "astro-behavior §6: page throws with 500.astro: 500 + 500 page"},
		{fixture: "with-500", target: "/api/invalid-status", status: 500, route: "/500", ref: "astro-behavior §6: invalid Response with 500.astro: 500 page"},
		{fixture: "with-500", target: "/api/status/abc", status: 500, route: "/500", ref: "astro-behavior §6: /api/status/abc with 500.astro: 500 page"},
		{fixture: "with-500", target: "/500", status: 500, statusLine: ise, route: "/500", ref: "astro-behavior §5: /500 gives 500 + the 500 page (error prop undefined)"},
		{fixture: "testdata/extra", target: "/api/text-1000", status: 500, route: "/500", ref: "astro-behavior §6: a Response with status 1000 is invalid: 500 (SPEC ERROR-5)"},
		{fixture: "testdata/extra", target: "/api/text-199", status: 500, route: "/500", ref: "astro-behavior §6: a Response with status 199 is invalid: 500"},
	})
	// /500 renders the 500 page without an error.
	_, body := get(t, loadApp(t, "with-500"), "GET", "/500")
	if strings.Contains(string(body), "data-error") {
		t.Errorf("/500 shows an error (astro-behavior §5: error prop undefined): %s", body)
	}
}

func TestNullBodiesAndStatuses(t *testing.T) {
	runRows(t, []respRow{
		// Pages' null-body 404/500 are rerouted, endpoints' never.
		{target: "/page-null-404", status: 404, statusLine: "404 Not Found", ctype: "text/html", route: "/404", ref: "astro-behavior §7: a page's new Response(null, {status:404}) renders the 404 page with status 404"},
		{fixture: "no-404", target: "/page-null-404", status: 404, bodyHas: "<title>404: Not Found</title>", ref: "astro-behavior §7: ... the default page when there is no custom one"},
		{target: "/api/null-404", status: 404, ctype: "-", empty: true, ref: "astro-behavior §7: endpoints are never rerouted: null-body 404 comes back as is (#157)"},
		{fixture: "no-404", target: "/api/null-404", status: 404, empty: true, ref: "astro-behavior §7: ... in every build"},
		{fixture: "testdata/extra", target: "/page-null-500", status: 500, route: "/500", ref: "astro-behavior §7: pages' null-body responses are rerouted to the error page"},
		{fixture: "testdata/extra", target: "/page-status-404", status: 404, statusLine: "404 OK", ctype: "text/html", route: "/page-status-404", ref: "astro-behavior §7: Astro.response.status = 404 keeps the page's own body, status line 404 OK (#161)"},
		{fixture: "testdata/extra", target: "/api/null-unset", status: 200, empty: true, ref: "astro-behavior §7: new Response(null) without a status is a 200"},
		{fixture: "testdata/extra", target: "/page-null-unset", status: 200, empty: true, ref: "astro-behavior §7: only null-body 404/500 pages are rerouted"},
		{fixture: "testdata/extra", target: "/api/status-text", status: 201, statusLine: "201 Made It", body: "made", ref: "astro-behavior §7: a custom statusText is passed through"},
		// Status passthrough with custom statusText.
		{target: "/api/status/200", status: 200, statusLine: "200 Custom 200", body: "status 200", ref: "astro-behavior §7: /api/status/200 passed through with custom statusText"},
		{target: "/api/status/201", status: 201, statusLine: "201 Custom 201", body: "status 201", ref: "astro-behavior §7: /api/status/201 passed through (Custom 201)"},
		{target: "/api/status/302", status: 302, statusLine: "302 Custom 302", body: "status 302", headers: location("/about"), ref: "astro-behavior §7: 302 keeps its location and body"},
		{target: "/api/status/404", status: 404, statusLine: "404 Custom 404", body: "status 404", ref: "astro-behavior §7: an endpoint's 404 with a body is passed through, not rerouted"},
		{target: "/api/status/418", status: 418, statusLine: "418 Custom 418", body: "status 418", ref: "astro-behavior §7: /api/status/418 passed through"},
		{target: "/api/status/500", status: 500, statusLine: "500 Custom 500", body: "status 500", ref: "astro-behavior §7: /api/status/500 passed through with its body"},
		{fixture: "with-500", target: "/api/status/500", status: 500, body: "status 500", ref: "astro-behavior §7: endpoints are not rerouted even with a 500 page"},
		{target: "/api/status/503", status: 503, statusLine: "503 Custom 503", body: "status 503", ref: "astro-behavior §7: /api/status/503 passed through"},
		{target: "/api/status/204", status: 204, ctype: "-", empty: true, ref: "astro-behavior §7: 204 has no body and no content-type"},
		{target: "/api/status/304", status: 304, ctype: "-", empty: true, ref: "astro-behavior §7: 304 has no body and no content-type"},
		// Redirects.
		{target: "/api/redirect", status: 307, statusLine: "307 Temporary Redirect", headers: location("/about"), ctype: "-", empty: true, ref: "astro-behavior §10: ctx.redirect('/about', 307): 307, location /about (relative), no body, no content-type"},
		{target: "/api/redirect", header: http.Header{"X-Forwarded-Host": {"evil.example"}, "X-Forwarded-Proto": {"https"}}, status: 307, headers: location("/about"), ref: "astro-behavior §10: X-Forwarded-* headers do not change the Location"},
		{target: "/page-redirect", status: 302, headers: location("/blog/first-post"), empty: true, ref: "astro-behavior §10: Astro.redirect gives 302 by default, empty body"},
		{fixture: "base-app", target: "/app/page-redirect", status: 302, headers: location("/blog/first-post"), ref: "astro-behavior §14.2: Astro.redirect Location unchanged, no base added"},
		{fixture: "base-app", target: "/app/api/redirect", status: 307, headers: location("/about"), ref: "astro-behavior §14.2: ctx.redirect Location unchanged, no base added"},
		{target: "/api/headers", status: 200, headers: map[string][]string{"X-Multi": {"one", "two"}, "Vary": {"Accept", "Accept-Encoding"}}, ref: "astro-behavior §9: repeated non-cookie headers keep every value in order (joined with \", \" on the wire)"},
	})
}

func TestCookies(t *testing.T) {
	a := loadApp(t, "basic")
	raw := allCookies[:3]
	astro := allCookies[3:]
	rows := []struct {
		target    string
		add       bool
		wantHdr   []string
		wantSetCk []string // app.SetCookies(resp)
		ref       string
	}{
		{"/api/cookies", true, allCookies, nil, "astro-behavior §9: every cookie a separate line, raw ones first, then Astro.cookies; values URI-encoded (#147)"},
		{"/api/cookies", false, raw, astro, "astro-behavior §9: without addCookieHeader only the raw ones; getSetCookieFromResponse yields the Astro ones"},
		{"/page-cookies", true, []string{"page_raw=2; Path=/", "page_a=1; Path=/"}, nil, "astro-behavior §9: pages can set cookies the same way (#162)"},
		{"/page-cookies", false, []string{"page_raw=2; Path=/"}, []string{"page_a=1; Path=/"}, "astro-behavior §9: a page's cookie-API cookies need addCookieHeader"},
		{"/api/cookie-one", true, []string{"lone=1; Path=/"}, nil, "a route that sets exactly one cookie sends exactly one line (HTTP-21)"},
		{"/about", true, nil, nil, "astro-behavior §9: no cookies on a page that sets none"},
	}
	for _, row := range rows {
		t.Run(rowName(row.target, map[bool]string{true: "addCookieHeader"}[row.add]), func(t *testing.T) {
			var opts []app.RenderOption
			if row.add {
				opts = append(opts, app.AddCookieHeader())
			}
			resp, _ := get(t, a, "GET", row.target, opts...)
			if got := resp.Header.Values("Set-Cookie"); !slices.Equal(got, row.wantHdr) {
				t.Errorf("Set-Cookie %q, want %q (%s)", got, row.wantHdr, row.ref)
			}
			if row.wantSetCk != nil {
				if got := app.SetCookies(resp); !slices.Equal(got, row.wantSetCk) {
					t.Errorf("app.SetCookies %q, want %q (%s)", got, row.wantSetCk, row.ref)
				}
			}
		})
	}
	if app.SetCookies(nil) != nil {
		t.Error("SetCookies(nil) is not nil")
	}
}

func TestWithRoute(t *testing.T) {
	basic := loadApp(t, "basic")
	with500 := loadApp(t, "with-500")
	about := basic.Match(newRequest("GET", "/about", nil))
	slug := basic.Match(newRequest("GET", "/blog/x", nil))
	docs := basic.Match(newRequest("GET", "/docs", nil))
	slug500 := with500.Match(newRequest("GET", "/blog/x", nil))
	m := loadManifest(t, "basic")
	fromManifest := func(pattern string) *app.Route {
		for _, r := range m.Routes {
			if r.Pattern == pattern {
				return r
			}
		}
		t.Fatalf("basic has no route %s", pattern)
		return nil
	}
	rows := []struct {
		a      *app.App
		target string
		route  *app.Route
		status int
		page   string
		params P
		empty  bool
		ref    string
	}{
		{basic, "/nope", about, 200, "/about", nil, false, "astro-behavior §12: render(GET /nope, {routeData: match('/about')}) renders /about (trusted)"},
		{basic, "/about", slug, 500, "", nil, true, "astro-behavior §6: routeData that does not fit the URL (/about with /blog/[slug]): 500 (Missing parameter: slug)"},
		{with500, "/about", slug500, 500, "/500", nil, false, "astro-behavior §6: ... with a 500 page: the 500 page"},
		{basic, "/blog/hello", slug, 200, "/blog/[slug]", P{"slug": "hello"}, false, "astro-behavior §12: the routeData's params come from the URL"},
		{basic, "/blog/first-post", slug, 200, "/blog/[slug]", P{"slug": "first-post"}, false, "astro-behavior §12: the routeData is trusted even where another route would match"},
		{basic, "/docs/a/b", docs, 200, "/docs/[...path]", P{"path": "a/b"}, false, "astro-behavior §12: rest params from the URL"},
		{basic, "/nope", docs, 500, "", nil, true, "astro-behavior §6: a route with params that does not fit the URL: 500"},
		{basic, "/nope", fromManifest("/about"), 200, "/about", nil, false, "astro-behavior §12: any RouteData of the app is trusted, not only match()'s"},
		{basic, "/blog/hello", fromManifest("/blog/[slug]"), 200, "/blog/[slug]", P{"slug": "hello"}, false, "astro-behavior §12: params from a manifest route's own pattern"},
		{basic, "/about", fromManifest("/404"), 404, "/404", nil, false, "astro-behavior §5: the 404 route always renders with 404"},
		{basic, "/about", nil, 200, "/about", nil, false, "WithRoute(nil) is no routeData: normal matching"},
	}
	for _, row := range rows {
		name := "nil"
		if row.route != nil {
			name = row.route.Pattern
		}
		t.Run(rowName(row.target, "with", name), func(t *testing.T) {
			resp, body := get(t, row.a, "GET", row.target, app.WithRoute(row.route))
			if resp.StatusCode != row.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, row.status, row.ref)
			}
			if row.page != "" {
				checkPage(t, body, row.page, row.params, "")
			}
			if row.empty {
				checkEmptyNoType(t, resp, body)
			}
		})
	}
}
