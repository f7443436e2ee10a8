package app_test

import (
	"net/http"
	"strings"
	"testing"
)

type P = map[string]string

// renderRow is one request rendered by app.Render, with the page it must give.
type renderRow struct {
	fixture  string // default "basic"
	method   string // default GET
	target   string
	status   int
	route    string // the page's data-route marker; "" for a response that is not a page
	params   P      // nil means no params
	pathname string // Astro.url.pathname; "" means not checked
	empty    bool   // empty body and no Content-Type
	ref      string
}

func (row renderRow) run(t *testing.T) {
	t.Helper()
	fixture := row.fixture
	if fixture == "" {
		fixture = "basic"
	}
	a := loadApp(t, fixture)
	resp, body := get(t, a, row.method, row.target)
	if resp.StatusCode != row.status {
		t.Fatalf("%s %s on %s: status %d, want %d (%s)\nbody: %.300s", row.method, row.target, fixture, resp.StatusCode, row.status, row.ref, body)
	}
	if row.route != "" {
		if ct := resp.Header.Get("Content-Type"); ct != "text/html" {
			t.Errorf("Content-Type %q, want text/html (%s)", ct, row.ref)
		}
		checkPage(t, body, row.route, row.params, row.pathname)
	}
	if row.empty {
		checkEmptyNoType(t, resp, body)
	}
}

var enc10, enc11, enc12 = "/blog/%" + strings.Repeat("25", 9) + "61", "/blog/%" + strings.Repeat("25", 10) + "61", "/blog/%" + strings.Repeat("25", 11) + "61"

func TestRenderRouting(t *testing.T) {
	rows := []renderRow{
		// Priority: static beats dynamic beats rest.
		{target: "/", status: 200, route: "/", pathname: "/", ref: "astro-behavior §1: / gives 200 text/html, the expected route"},
		{target: "/about", status: 200, route: "/about", pathname: "/about", ref: "astro-behavior §1: /about gives 200 text/html"},
		{target: "/blog", status: 200, route: "/blog", ref: "astro-behavior §1: /blog gives 200 text/html"},
		{target: "/blog/first-post", status: 200, route: "/blog/first-post", ref: "astro-behavior §1: static /blog/first-post wins over /blog/[slug]"},
		{target: "/blog/hello", status: 200, route: "/blog/[slug]", params: P{"slug": "hello"}, ref: "astro-behavior §1/RENDER-1: /blog/hello renders /blog/[slug]"},
		{target: "/docs/a/b/c", status: 200, route: "/docs/[...path]", params: P{"path": "a/b/c"}, ref: "astro-behavior §1: /docs/a/b/c renders the rest route"},
		{target: "/en/intro", status: 200, route: "/[lang]/intro", params: P{"lang": "en"}, ref: "astro-behavior §1: /en/intro renders /[lang]/intro"},
		{target: "/about/intro", status: 200, route: "/[lang]/intro", params: P{"lang": "about"}, ref: "astro-behavior §1: /about/intro gives /[lang]/intro with lang=about (the static /about does not get in the way)"},
		// Rest params may be empty.
		{target: "/docs", status: 200, route: "/docs/[...path]", pathname: "/docs", ref: "astro-behavior §1: /docs gives /docs/[...path] with params {}"},
		{target: "/docs/", status: 200, route: "/docs/[...path]", pathname: "/docs/", ref: "astro-behavior §1: /docs/ gives /docs/[...path] with params {}"},
		{target: "/docs/a/b/", status: 200, route: "/docs/[...path]", params: P{"path": "a/b"}, ref: `astro-behavior §1: /docs/a/b/ gives path="a/b"`},
		// Case sensitivity, no index or .html aliasing.
		{target: "/blog/a/b", status: 404, route: "/404", ref: "astro-behavior §1: /blog/a/b is not found"},
		{target: "/ABOUT", status: 404, route: "/404", ref: "astro-behavior §1: matching is case-sensitive, /ABOUT is 404"},
		{target: "/Blog/first-post", status: 404, route: "/404", ref: "astro-behavior §1: matching is case-sensitive"},
		{target: "/index", status: 404, route: "/404", ref: "astro-behavior §1: no index aliasing, /index is 404"},
		{target: "/index.html", status: 404, route: "/404", ref: "astro-behavior §1: no .html aliasing, /index.html is 404"},
		{target: "/about.html", status: 404, route: "/404", ref: "astro-behavior §1, §14.3: /about.html is 404 (static routes keep .html)"},
		{target: "/about/index.html", status: 404, route: "/404", ref: "astro-behavior §1: /about/index.html is 404"},
		// Dynamic pages drop a trailing .html from their params (default build).
		{target: "/blog/hello.html", status: 200, route: "/blog/[slug]", params: P{"slug": "hello"}, pathname: "/blog/hello.html", ref: `astro-behavior §14.3: /blog/hello.html gives slug="hello"`},
		{target: "/docs/a/b.html", status: 200, route: "/docs/[...path]", params: P{"path": "a/b"}, ref: `astro-behavior §14.3: /docs/a/b.html gives path="a/b"`},
		{target: "/blog/first-post.html", status: 200, route: "/blog/[slug]", params: P{"slug": "first-post"}, ref: `astro-behavior §14.3: /blog/first-post.html gives /blog/[slug] with slug="first-post"`},
		{target: "/blog/hello.json", status: 200, route: "/blog/[slug]", params: P{"slug": "hello.json"}, ref: "astro-behavior §14.1: /blog/hello.json gives 200 (dynamic route) under ignore"},
		// Percent-decoding.
		{target: "/blog/hello%20world", status: 200, route: "/blog/[slug]", params: P{"slug": "hello world"}, ref: `astro-behavior §1: slug="hello world"`},
		{target: "/blog/caf%C3%A9", status: 200, route: "/blog/[slug]", params: P{"slug": "café"}, pathname: "/blog/caf%C3%A9", ref: "astro-behavior §1: params decoded: café; Astro.url.pathname keeps the encoding (Astro 7 normalizeUrl: decoded, then set back on a WHATWG URL, which encodes it again)"},
		{target: "/unicode/%E6%97%A5%E6%9C%AC", status: 200, route: "/unicode/[name]", params: P{"name": "日本"}, ref: "astro-behavior §1: params decoded: 日本"},
		{target: "/unicode/%F0%9F%98%80", status: 200, route: "/unicode/[name]", params: P{"name": "😀"}, ref: "astro-behavior §1: params decoded: 😀"},
		{target: "/blog/a%2Fb", status: 200, route: "/blog/[slug]", params: P{"slug": "a%2Fb"}, ref: `astro-behavior §1: %2F is not decoded: slug="a%2Fb"`},
		{target: "/docs/a%2Fb/c", status: 200, route: "/docs/[...path]", params: P{"path": "a%2Fb/c"}, ref: `astro-behavior §1: %2F is not decoded: path="a%2Fb/c"`},
		{target: "/blog/a%3Fb%23c", status: 200, route: "/blog/[slug]", params: P{"slug": "a%3Fb%23c"}, ref: "astro-behavior §1: decodeURI leaves reserved characters encoded"},
		{target: "/blog/100%25", status: 200, route: "/blog/[slug]", params: P{"slug": "100%"}, ref: `astro-behavior §1: /blog/100%25 gives slug="100%"`},
		{target: "/blog/a+b", status: 200, route: "/blog/[slug]", params: P{"slug": "a+b"}, ref: `astro-behavior §1: slug="a+b" (+ stays a plus)`},
		{target: "/blog/%2561", status: 200, route: "/blog/[slug]", params: P{"slug": "a"}, pathname: "/blog/a", ref: "astro-behavior §1: /blog/%2561 gives slug=a (double decoding)"},
		{target: enc10, status: 200, route: "/blog/[slug]", params: P{"slug": "a"}, ref: "astro-behavior §1: 'a' encoded 10 times gives 200 slug=a"},
		{target: enc11, status: 400, empty: true, ref: "astro-behavior §1: 'a' encoded 11 times gives 400, empty body, no content-type"},
		{target: enc12, status: 400, empty: true, ref: "astro-behavior §1: 'a' encoded 12 times gives 400, empty body, no content-type"},
		{method: "POST", target: enc12, status: 400, empty: true, ref: "astro-behavior §1: MultiLevelEncodingError is a 400 whatever the method"},
		{method: "HEAD", target: enc11, status: 400, empty: true, ref: "astro-behavior §1: MultiLevelEncodingError is a 400 whatever the method"},
		{target: "/nope" + enc11, status: 400, empty: true, ref: "astro-behavior §1: the 400 comes from decoding, before any matching"},
		{target: "/blog/%25%25%2561", status: 200, route: "/blog/[slug]", params: P{"slug": "%%%61"}, ref: `astro-behavior §1: /blog/%25%25%2561 gives slug="%%%61" (decoding stops at the first malformed result)`},
		{target: "/%61bout", status: 200, route: "/about", pathname: "/about", ref: "astro-behavior §1: /%61bout is decoded first, then matched: /about"},
		{target: "/blog/first%2Dpost", status: 200, route: "/blog/first-post", ref: "astro-behavior §1: /blog/first%2Dpost matches the static /blog/first-post"},
		{target: "/unicode/%ZZ", status: 200, route: "/unicode/[name]", params: P{"name": "%ZZ"}, ref: `astro-behavior §1, §12: in the App (middleware mode) /unicode/%ZZ gives 200 with name="%ZZ"`},
		{target: "/unicode/%C3", status: 200, route: "/unicode/[name]", params: P{"name": "%C3"}, ref: "astro-behavior §1, §12: a malformed sequence is kept raw by the App (only the standalone adapter gives 400)"},
		{target: "/blog/%E0%A4%A", status: 200, route: "/blog/[slug]", params: P{"slug": "%E0%A4%A"}, ref: "astro-behavior §1: a truncated sequence is kept raw by the App"},
		// Dot segments.
		{target: "/blog/../about", status: 200, route: "/about", pathname: "/about", ref: "astro-behavior §1: /blog/../about renders /about (WHATWG removes dot segments)"},
		{target: "/blog/%2e%2e/about", status: 200, route: "/about", ref: "astro-behavior §1: /blog/%2e%2e/about renders /about"},
		{target: "/blog/%2E./about", status: 200, route: "/about", ref: "astro-behavior §1: %2E. is a dot segment too"},
		{target: "/../about", status: 200, route: "/about", ref: "astro-behavior §1, §8: dot segments cannot climb above the root"},
		{target: "/about/./", status: 200, route: "/about", ref: "astro-behavior §1: a single-dot segment is removed"},
		// Trailing and duplicate slashes under trailingSlash 'ignore'.
		{target: "/about/", status: 200, route: "/about", pathname: "/about/", ref: "astro-behavior §2: /about/ is the same route, Astro.url.pathname keeps the slash"},
		{target: "/blog/", status: 200, route: "/blog", ref: "astro-behavior §2: /blog/ gives the same route as /blog"},
		{target: "/blog/first-post/", status: 200, route: "/blog/first-post", ref: "astro-behavior §2: /blog/first-post/ gives the same route"},
		{target: "/about/?x=1", status: 200, route: "/about", ref: "astro-behavior §2: /about/?x=1 gives 200"},
		{target: "//about", status: 200, route: "/about", pathname: "/about", ref: "astro-behavior §2: //about gives 200 /about (the leading // is collapsed)"},
		{target: "/blog//first-post", status: 200, route: "/blog/first-post", pathname: "/blog/first-post", ref: "astro-behavior §2: /blog//first-post renders /blog/first-post"},
		{target: "/nope/", status: 404, route: "/404", ref: "astro-behavior §2: /nope/ is 404 as without the slash"},
		{target: "/404/", status: 404, route: "/404", ref: "astro-behavior §2, §5: /404/ is 404 as without the slash"},
		// Unmatched paths and the 404 route.
		{target: "/nope", status: 404, route: "/404", pathname: "/nope", ref: "astro-behavior §5: unmatched /nope gives the custom page, its Astro.url is the requested path"},
		{target: "/api/nope", status: 404, route: "/404", ref: "astro-behavior §5: unmatched /api/nope gives the 404 page"},
		{target: "/.env", status: 404, route: "/404", ref: "astro-behavior §5: unmatched /.env gives the 404 page"},
		{target: "/robots.txt/", status: 404, route: "/404", ref: "astro-behavior §5: unmatched /robots.txt/ gives the 404 page"},
		{target: "/_astro/nope.js", status: 404, route: "/404", ref: "astro-behavior §5: unmatched /_astro/nope.js gives the 404 page"},
		{method: "POST", target: "/nope", status: 404, route: "/404", ref: "astro-behavior §5: POST /nope gives the 404 page"},
		{target: "/404", status: 404, route: "/404", ref: "astro-behavior §5: /404 directly gives 404 + custom page"},
		{target: "/404.html", status: 404, route: "/404", ref: "astro-behavior §5: /404.html gives 404 + custom page"},
		{target: "/500", status: 404, route: "/404", ref: "astro-behavior §5: /500 with no 500 page gives 404"},
		{fixture: "with-500", target: "/500", status: 500, route: "/500", ref: "astro-behavior §5: with 500.astro, /500 gives 500 + the 500 page"},
		// Static assets: the App never serves them.
		{target: "/assets/logo.svg", status: 200, route: "/assets/[file]", params: P{"file": "logo.svg"}, ref: "astro-behavior §8, §12: app.render() on /assets/logo.svg renders /assets/[file] (200)"},
		{target: "/assets/other.svg", status: 200, route: "/assets/[file]", params: P{"file": "other.svg"}, ref: "astro-behavior §8: /assets/other.svg renders /assets/[file]"},
		{target: "/robots.txt", status: 404, route: "/404", ref: "astro-behavior §8, §12: app.render() on /robots.txt gives the 404 page"},
		{target: "/about.txt", status: 404, route: "/404", ref: "astro-behavior §12: app.render() on /about.txt gives the 404 page"},
		{target: "/assets", status: 404, route: "/404", ref: "astro-behavior §8: directories are not listed: 404 page"},
		{target: "/assets/", status: 404, route: "/404", ref: "astro-behavior §8: directories are not listed: 404 page"},
	}
	for _, row := range rows {
		t.Run(rowName(row.fixture, row.method, row.target), row.run)
	}
}

// matchRow is one request through app.Match.
type matchRow struct {
	fixture  string
	method   string
	target   string
	route    string // "" means Match returns nil
	internal bool   // the matched route is an internal one (Astro's origin "internal")
	params   P      // checked through MatchParams when route is set
	ref      string
}

func TestMatch(t *testing.T) {
	rows := []matchRow{
		{target: "/", route: "/", ref: "astro-behavior §12: pages give their RouteData"},
		{target: "/about", route: "/about", ref: "astro-behavior §12: pages give their RouteData"},
		{target: "/blog/hello", route: "/blog/[slug]", params: P{"slug": "hello"}, ref: "astro-behavior §12: dynamic routes give their RouteData"},
		{target: "/blog/first-post", route: "/blog/first-post", ref: "astro-behavior §1: static beats dynamic"},
		{target: "/about/intro", route: "/[lang]/intro", params: P{"lang": "about"}, ref: "astro-behavior §1: /about/intro gives /[lang]/intro"},
		{target: "/docs", route: "/docs/[...path]", params: P{}, ref: "astro-behavior §1: /docs gives the rest route with params {}"},
		{target: "/docs/", route: "/docs/[...path]", params: P{}, ref: "astro-behavior §1: /docs/ gives the rest route with params {}"},
		{target: "/docs/a/b/c", route: "/docs/[...path]", params: P{"path": "a/b/c"}, ref: "astro-behavior §1: rest params span segments"},
		{target: "/api/echo", route: "/api/echo", ref: "astro-behavior §12: endpoints give their RouteData"},
		{method: "PUT", target: "/api/echo", route: "/api/echo", ref: "astro-behavior §12: PUT on echo: match ignores the method"},
		{method: "POST", target: "/api/only-get", route: "/api/only-get", ref: "astro-behavior §12: POST on only-get: match ignores the method"},
		{target: "/nope", ref: "astro-behavior §12: /nope gives undefined"},
		{target: "/api/nope", ref: "astro-behavior §12: /api/nope gives undefined"},
		{target: "/index.html", ref: "astro-behavior §12: /index.html gives undefined"},
		{target: "/ABOUT", ref: "astro-behavior §12: /ABOUT gives undefined (case-sensitive)"},
		{target: "/index", ref: "astro-behavior §1: no index aliasing"},
		{target: "/about.html", ref: "astro-behavior §1: no .html aliasing"},
		{target: "/404.html", ref: "astro-behavior §12: /404.html gives undefined"},
		{target: "/500", ref: "astro-behavior §12: /500 gives undefined when there is no 500 page"},
		{fixture: "with-500", target: "/500", route: "/500", ref: "astro-behavior §12: in the variant, /500 matches the 500 route"},
		{target: "/404", route: "/404", ref: "astro-behavior §12: /404 gives the custom route (origin project)"},
		{target: "/404/", route: "/404", ref: "astro-behavior §12: /404/ gives the custom route"},
		{fixture: "no-404", target: "/404", route: "/404", internal: true, ref: "astro-behavior §12: with no 404 page, /404 gives {route:'/404', origin:'internal'}"},
		{fixture: "no-404", target: "/404/", route: "/404", internal: true, ref: "astro-behavior §12: with no 404 page, /404/ gives the internal route"},
		{target: "/robots.txt", ref: "astro-behavior §8, §12: match() is undefined for a path in manifest.assets"},
		{target: "/assets/logo.svg", ref: "astro-behavior §8, §12: match() is undefined for /assets/logo.svg although /assets/[file] exists"},
		{target: "/about.txt", ref: "astro-behavior §12: match() is undefined for /about.txt"},
		{target: "/assets/other.svg", route: "/assets/[file]", params: P{"file": "other.svg"}, ref: "astro-behavior §8: a path that is not an asset reaches /assets/[file]"},
		{target: "/assets/../robots.txt", ref: "astro-behavior §8: /assets/../robots.txt is normalized to the asset"},
		{target: "//about", route: "/about", ref: "astro-behavior §12: //about gives /about"},
		{target: "/%61bout", route: "/about", ref: "astro-behavior §12: /%61bout gives /about"},
		{target: "/blog//first-post", ref: "astro-behavior §2, §12: /blog//first-post gives undefined (render collapses it, match does not)"},
		{target: "/about//", ref: "astro-behavior §12: /about// gives undefined"},
		{target: "/blog/%ZZ", route: "/blog/[slug]", params: P{"slug": "%ZZ"}, ref: "astro-behavior §12: /blog/%ZZ gives /blog/[slug]"},
		{target: enc12, route: "/blog/[slug]", ref: "astro-behavior §12: 'a' encoded 12 times gives /blog/[slug] (render gives 400)"},
		{target: "/blog/%2561", route: "/blog/[slug]", params: P{"slug": "a"}, ref: "astro-behavior §1: repeated decoding"},
		{target: "/blog/a%2Fb", route: "/blog/[slug]", params: P{"slug": "a%2Fb"}, ref: "astro-behavior §1: %2F is kept encoded"},
		{target: "/blog/../about", route: "/about", ref: "astro-behavior §1: dot segments are removed"},
		{target: "/blog/%2e%2e/about", route: "/about", ref: "astro-behavior §1: encoded dot segments are removed"},
		{target: "/blog/hello.html", route: "/blog/[slug]", params: P{"slug": "hello"}, ref: "astro-behavior §14.3: a dynamic page drops .html from its params"},
		// trailingSlash variants: match() only tests the pattern.
		{fixture: "trailing-always", target: "/about", ref: "astro-behavior §14.1: match() is undefined for every URL in the wrong form"},
		{fixture: "trailing-always", target: "/about/", route: "/about", ref: "astro-behavior §14.1: pattern ^\\/about\\/$"},
		{fixture: "trailing-always", target: "/", route: "/", ref: "astro-behavior §14.1: the index is always ^\\/$"},
		{fixture: "trailing-always", target: "/docs", ref: "astro-behavior §14.1: wrong form under 'always'"},
		{fixture: "trailing-never", target: "/about/", ref: "astro-behavior §14.1: match() is undefined for every URL in the wrong form"},
		{fixture: "trailing-never", target: "/about", route: "/about", ref: "astro-behavior §14.1: pattern ^\\/about$"},
		{fixture: "trailing-never", target: "/", route: "/", ref: "astro-behavior §14.1: the index is always ^\\/$"},
		// base: '/app'.
		{fixture: "base-app", target: "/app/about", route: "/about", ref: "astro-behavior §14.2: match() strips the base: /app/about gives /about"},
		{fixture: "base-app", target: "/about", route: "/about", ref: "astro-behavior §14.2: without the base, /about gives /about"},
		{fixture: "base-app", target: "/app", route: "/", ref: "astro-behavior §14.2: /app is the index"},
		{fixture: "base-app", target: "/app/", route: "/", ref: "astro-behavior §14.2: /app/ is the index"},
		{fixture: "base-app", target: "/app/blog/x", route: "/blog/[slug]", params: P{"slug": "x"}, ref: "astro-behavior §14.2: params after the base"},
		{fixture: "base-app", target: "/appx", ref: "astro-behavior §14.2: /appx is not the base"},
		{fixture: "base-app", target: "/app/robots.txt", ref: "astro-behavior §14.2: manifest.assets holds /app/robots.txt, so match is undefined"},
		{fixture: "base-app", target: "/assets/logo.svg", route: "/assets/[file]", params: P{"file": "logo.svg"}, ref: "astro-behavior §14.2: match('/assets/logo.svg') (no base) gives /assets/[file]"},
	}
	for _, row := range rows {
		t.Run(rowName(row.fixture, row.method, row.target), func(t *testing.T) {
			fixture := row.fixture
			if fixture == "" {
				fixture = "basic"
			}
			a := loadApp(t, fixture)
			r := newRequest(row.method, row.target, nil)
			got := a.Match(r)
			mp := a.MatchParams(r)
			if row.route == "" {
				if got != nil || mp != nil {
					t.Fatalf("Match(%s) = %v, want nil (%s)", row.target, got, row.ref)
				}
				return
			}
			if got == nil || mp == nil {
				t.Fatalf("Match(%s) = nil, want %s (%s)", row.target, row.route, row.ref)
			}
			if got.Pattern != row.route || mp.Route != got {
				t.Fatalf("Match(%s) = %s (MatchParams %s), want %s (%s)", row.target, got.Pattern, mp.Route.Pattern, row.route, row.ref)
			}
			if got.Internal != row.internal {
				t.Errorf("Match(%s).Internal = %v, want %v (%s)", row.target, got.Internal, row.internal, row.ref)
			}
			if row.params != nil {
				if len(mp.Params) != len(row.params) {
					t.Errorf("params %v, want %v (%s)", mp.Params, row.params, row.ref)
				}
				for k, v := range row.params {
					if mp.Params[k] != v {
						t.Errorf("params %v, want %v (%s)", mp.Params, row.params, row.ref)
					}
				}
			}
		})
	}
}

func TestMatchNil(t *testing.T) {
	// Not in Astro (match(undefined) throws); the Go App is total instead.
	a := loadApp(t, "basic")
	if a.Match(nil) != nil || a.MatchParams(nil) != nil {
		t.Fatal("Match(nil) is not nil")
	}
	if got := a.Match(&http.Request{}); got == nil || got.Pattern != "/" {
		t.Fatalf("Match of a request with no URL = %v, want the index", got)
	}
}
