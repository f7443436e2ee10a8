package app_test

import (
	"strings"
	"testing"
)

// redirectRow is a request through app.Render that must give either a page
// (location "") or Astro core's trailing-slash redirect. app.Render gives
// the *astro* redirect: 301 for GET, 308 for every other method, HEAD
// included, content-type text/plain;charset=UTF-8 and a "Redirecting to"
// body (astro-behavior §14, "Two different redirectors").
type redirectRow struct {
	fixture  string
	method   string
	target   string
	status   int
	location string // the Location of a redirect
	route    string // the page rendered when there is no redirect
	params   P
	pathname string
	ref      string
}

func (row redirectRow) run(t *testing.T) {
	t.Helper()
	a := loadApp(t, row.fixture)
	resp, body := get(t, a, row.method, row.target)
	if resp.StatusCode != row.status {
		t.Fatalf("%s %s on %s: status %d (Location %q), want %d (%s)", row.method, row.target, row.fixture, resp.StatusCode, resp.Header.Get("Location"), row.status, row.ref)
	}
	loc := resp.Header.Get("Location")
	if row.location != "" {
		if loc != row.location {
			t.Errorf("Location %q, want %q (%s)", loc, row.location, row.ref)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/plain;charset=UTF-8" {
			t.Errorf("redirect Content-Type %q, want text/plain;charset=UTF-8 (%s)", ct, row.ref)
		}
		if !strings.Contains(string(body), "Redirecting") {
			t.Errorf("redirect body is not the \"Redirecting to\" page: %.200s (%s)", body, row.ref)
		}
		return
	}
	if loc != "" {
		t.Errorf("unexpected Location %q (%s)", loc, row.ref)
	}
	if row.route != "" {
		checkPage(t, body, row.route, row.params, row.pathname)
	}
}

func TestTrailingSlash(t *testing.T) {
	const ign, always, never = "basic", "trailing-always", "trailing-never"
	rows := []redirectRow{
		// trailingSlash: 'ignore' (the control column).
		{fixture: ign, target: "/about//", status: 301, location: "/about/", ref: "astro-behavior §2: /about// gives 301 Location /about/, text/plain;charset=UTF-8, a Redirecting-to body"},
		{fixture: ign, method: "POST", target: "/about//", status: 308, location: "/about/", ref: "astro-behavior §2: POST /about// gives 308 (#118)"},
		{fixture: ign, method: "HEAD", target: "/about//", status: 308, location: "/about/", ref: "astro-behavior §14: astro redirect is 308 for every method but GET, HEAD included"},
		{fixture: ign, target: "/about//?x=1&y=2", status: 301, location: "/about/?x=1&y=2", ref: "astro-behavior §2: query kept"},
		{fixture: ign, target: "/about///", status: 301, location: "/about/", ref: "astro-behavior §14.1: /about/// gives 301 (astro) to /about/"},
		{fixture: ign, target: "/blog/caf%C3%A9//?q=1", status: 301, location: "/blog/caf%C3%A9/?q=1", ref: "astro-behavior §14: both keep the query and the percent-encoding"},
		{fixture: ign, target: "//", status: 301, location: "/", ref: "astro-behavior §14.1: // gives 301 (astro) to /"},
		{fixture: ign, target: "///", status: 301, location: "/", ref: "astro-behavior §14.1: /// gives 301 (astro) to /"},
		{fixture: ign, target: "/", status: 200, route: "/", ref: "astro-behavior §14.1: / is never redirected"},
		{fixture: ign, target: "/about", status: 200, route: "/about", ref: "astro-behavior §14.1: control: 200"},
		{fixture: ign, target: "/about/", status: 200, route: "/about", ref: "astro-behavior §14.1: control: 200"},
		{fixture: ign, target: "//evil.example/", status: 404, route: "/404", ref: "astro-behavior §2, §14: // paths are internal and not redirected; ROBUST-4: no off-site Location"},
		{fixture: ign, target: "//evil.example/about//", status: 404, route: "/404", ref: "astro-behavior §14: internal paths (starting with //) are not redirected; ROBUST-4"},
		// trailingSlash: 'always'.
		{fixture: always, target: "/about", status: 301, location: "/about/", ref: "astro-behavior §14.1: 'always': /about is redirected to /about/ (app.render gives the astro redirect)"},
		{fixture: always, method: "POST", target: "/about", status: 308, location: "/about/", ref: "astro-behavior §14.1: app.render(): 308 for POST"},
		{fixture: always, method: "PUT", target: "/about", status: 308, location: "/about/", ref: "astro-behavior §14.1: app.render(): 308 for PUT"},
		{fixture: always, method: "DELETE", target: "/about", status: 308, location: "/about/", ref: "astro-behavior §14.1: app.render(): 308 for DELETE"},
		{fixture: always, method: "OPTIONS", target: "/about", status: 308, location: "/about/", ref: "astro-behavior §14.1: app.render(): 308 for OPTIONS"},
		{fixture: always, method: "HEAD", target: "/about", status: 308, location: "/about/", ref: "astro-behavior §14.1: app.render(): HEAD also gets 308"},
		{fixture: always, target: "/about/", status: 200, route: "/about", pathname: "/about/", ref: "astro-behavior §14.1: the same + / gives 200; Astro.url.pathname is /about/"},
		{fixture: always, target: "/about?x=1&y=2", status: 301, location: "/about/?x=1&y=2", ref: "astro-behavior §14.1: wrong form with a query → /about/?x=1&y=2"},
		{fixture: always, target: "/blog/first-post", status: 301, location: "/blog/first-post/", ref: "astro-behavior §14.1: 'always' redirects /blog/first-post"},
		{fixture: always, target: "/docs/a/b/c", status: 301, location: "/docs/a/b/c/", ref: "astro-behavior §14.1: 'always' redirects /docs/a/b/c"},
		{fixture: always, target: "/docs/a/b/c/", status: 200, route: "/docs/[...path]", params: P{"path": "a/b/c"}, ref: "astro-behavior §14.1: then gives 200"},
		{fixture: always, target: "/api/echo", status: 301, location: "/api/echo/", ref: "astro-behavior §14.1: 'always' redirects /api/echo"},
		{fixture: always, target: "/nope", status: 301, location: "/nope/", ref: "astro-behavior §14: unmatched paths are redirected too"},
		{fixture: always, target: "/nope/", status: 404, route: "/404", ref: "astro-behavior §14.1: ... which then gives the 404 page"},
		{fixture: always, target: "/404", status: 301, location: "/404/", ref: "astro-behavior §14.1: /404 is redirected under 'always'"},
		{fixture: always, target: "/404/", status: 404, route: "/404", ref: "astro-behavior §14.1: /404/ gives the 404 page"},
		{fixture: always, target: "/%61bout", status: 301, location: "/%61bout/", ref: "astro-behavior §14: the astro Location is the normalized, not decoded, pathname"},
		{fixture: always, target: "/blog/../about", status: 301, location: "/about/", ref: "astro-behavior §14: the astro Location is built from the WHATWG-normalized url.pathname"},
		{fixture: always, target: "/blog/caf%C3%A9?q=1", status: 301, location: "/blog/caf%C3%A9/?q=1", ref: "astro-behavior §14: /blog/caf%C3%A9?q=1 → /blog/caf%C3%A9/?q=1"},
		{fixture: always, target: "/about//", status: 301, location: "/about/", ref: "astro-behavior §14.1: /about// under 'always': 301 (astro) → /about/"},
		{fixture: always, method: "POST", target: "/about//", status: 308, location: "/about/", ref: "astro-behavior §14.1: POST /about//: 308"},
		{fixture: always, target: "/", status: 200, route: "/", ref: "astro-behavior §14.1: / same as control"},
		{fixture: always, target: "//", status: 301, location: "/", ref: "astro-behavior §14.1: // same as control"},
		{fixture: always, target: "/blog/hello.json", status: 404, route: "/404", ref: "astro-behavior §14.1: file-like paths are not redirected under 'always', and every pattern needs the slash: 404 page"},
		{fixture: always, target: "/blog/hello.json/", status: 200, route: "/blog/[slug]", params: P{"slug": "hello.json"}, ref: "astro-behavior §14.1: with a / it gives 200"},
		{fixture: always, target: "/docs/a.b", status: 404, route: "/404", ref: "astro-behavior §14.1: /docs/a.b gives the 404 page"},
		{fixture: always, target: "/assets/other.svg", status: 404, route: "/404", ref: "astro-behavior §14.1: /assets/other.svg gives the 404 page"},
		{fixture: always, target: "/assets/other.svg/", status: 200, route: "/assets/[file]", params: P{"file": "other.svg"}, ref: "astro-behavior §14.1: with a /: 200"},
		{fixture: always, target: "/blog/hello.html", status: 404, route: "/404", ref: "astro-behavior §14.3: under 'always', every .html path gives the 404 page"},
		{fixture: always, target: "//about", status: 404, route: "/404", ref: "astro-behavior §14.1: //about under 'always' gives the 404 page (internal path, not redirected)"},
		{fixture: always, target: "//about/", status: 200, route: "/about", ref: "astro-behavior §14.1: //about/ under 'always' gives 200"},
		{fixture: always, target: "/_image", status: 404, route: "/404", ref: "astro-behavior §14.1: /_image is internal: not redirected (the Go App has no /_image route)"},
		{fixture: always, target: "/_server-islands/foo", status: 404, route: "/404", ref: "astro-behavior §14.1: internal paths starting with /_ are not redirected"},
		{fixture: always, target: "/robots.txt", status: 404, route: "/404", ref: "astro-behavior §8, §14.1: a file path is not redirected, and render gives the 404 page"},
		{fixture: always, target: "/robots.txt/", status: 404, route: "/404", ref: "astro-behavior §14.1: /robots.txt/ gives the 404 page"},
		{fixture: always, target: "/assets", status: 301, location: "/assets/", ref: "astro-behavior §14.1: /assets → /assets/ (app.render gives the astro redirect)"},
		{fixture: always, target: "/assets/", status: 404, route: "/404", ref: "astro-behavior §14.1: /assets/ gives the 404 page"},
		{fixture: always, target: "/404.html", status: 404, route: "/404", ref: "astro-behavior §14.1: /404.html gives the 404 page"},
		// trailingSlash: 'never'.
		{fixture: never, target: "/about", status: 200, route: "/about", ref: "astro-behavior §14.1: 'never': /about gives 200"},
		{fixture: never, target: "/about/", status: 301, location: "/about", ref: "astro-behavior §14.1: 'never': /about/ gives 301 (astro) without the /"},
		{fixture: never, method: "POST", target: "/about/", status: 308, location: "/about", ref: "astro-behavior §14.1: 'never': POST gives 308"},
		{fixture: never, method: "HEAD", target: "/about/", status: 308, location: "/about", ref: "astro-behavior §14.1: 'never': HEAD also gets 308"},
		{fixture: never, method: "DELETE", target: "/about/", status: 308, location: "/about", ref: "astro-behavior §14.1: 'never': 308 for DELETE"},
		{fixture: never, target: "/about/?x=1&y=2", status: 301, location: "/about?x=1&y=2", ref: "astro-behavior §14.1: → /about?x=1&y=2"},
		{fixture: never, target: "/blog/../about/", status: 301, location: "/about", ref: "astro-behavior §14.1: normalized, not decoded: /blog/../about/ → /about"},
		{fixture: never, target: "/%61bout/", status: 301, location: "/%61bout", ref: "astro-behavior §14.1: /%61bout/ → /%61bout"},
		{fixture: never, target: "/blog//first-post/", status: 301, location: "/blog//first-post", ref: "astro-behavior §14.1: /blog//first-post/ → /blog//first-post"},
		{fixture: never, target: "/about//", status: 301, location: "/about", ref: "astro-behavior §14.1: /about// under 'never': 301 (astro) → /about"},
		{fixture: never, target: "/about///", status: 301, location: "/about", ref: "astro-behavior §14.1: /about/// under 'never': → /about"},
		{fixture: never, method: "POST", target: "/about//", status: 308, location: "/about", ref: "astro-behavior §14.1: POST /about//: 308"},
		{fixture: never, target: "/", status: 200, route: "/", ref: "astro-behavior §14.1: / gives 200"},
		{fixture: never, target: "/nope", status: 404, route: "/404", ref: "astro-behavior §14.1: /nope gives the 404 page"},
		{fixture: never, target: "/nope/", status: 301, location: "/nope", ref: "astro-behavior §14: unmatched paths are redirected too"},
		{fixture: never, target: "/404", status: 404, route: "/404", ref: "astro-behavior §14.1: /404 gives the 404 page"},
		{fixture: never, target: "/blog/hello.json", status: 200, route: "/blog/[slug]", params: P{"slug": "hello.json"}, ref: "astro-behavior §14.1: file-like paths give 200 under 'never'"},
		{fixture: never, target: "/blog/hello.json/", status: 301, location: "/blog/hello.json", ref: "astro-behavior §14.1: with a /: 301 (astro) without it"},
		{fixture: never, target: "/blog/hello.html", status: 200, route: "/blog/[slug]", params: P{"slug": "hello"}, ref: "astro-behavior §14.3: the default build and 'never' drop .html from a dynamic page's params"},
		{fixture: never, target: "//about", status: 200, route: "/about", ref: "astro-behavior §14.1: //about under 'never': 200"},
		{fixture: never, target: "//about/", status: 404, route: "/404", ref: "astro-behavior §14.1: //about/ under 'never': 404 page (internal, not redirected)"},
		{fixture: never, target: "/_image/", status: 404, route: "/404", ref: "astro-behavior §14.1: /_image/ under 'never': 404 page (internal, not redirected)"},
		{fixture: never, target: "/robots.txt/", status: 301, location: "/robots.txt", ref: "astro-behavior §14.1: /robots.txt/ under 'never': 301 (astro) → /robots.txt"},
		{fixture: never, target: "/404.html", status: 404, route: "/404", ref: "astro-behavior §14.1: /404.html gives the 404 page"},
	}
	for _, row := range rows {
		t.Run(rowName(row.fixture, row.method, row.target), row.run)
	}
}

func TestBase(t *testing.T) {
	const base = "base-app"
	rows := []redirectRow{
		{fixture: base, target: "/app", status: 200, route: "/", pathname: "/app", ref: "astro-behavior §14.2: /app gives 200 index, Astro.url.pathname=/app"},
		{fixture: base, target: "/app?x=1", status: 200, route: "/", ref: "astro-behavior §14.2: /app?x=1 gives 200 index"},
		{fixture: base, target: "/app/", status: 200, route: "/", ref: "astro-behavior §14.2: /app/ gives 200 index"},
		{fixture: base, target: "//app", status: 200, route: "/", ref: "astro-behavior §14.2: //app gives 200 index"},
		{fixture: base, target: "//app/", status: 200, route: "/", ref: "astro-behavior §14.2: //app/ gives 200 index"},
		{fixture: base, target: "/app/about", status: 200, route: "/about", pathname: "/app/about", ref: "astro-behavior §14.2: /app/about gives 200 /about, Astro.url.pathname=/app/about"},
		{fixture: base, target: "/app/about/", status: 200, route: "/about", pathname: "/app/about/", ref: "astro-behavior §14.2: /app/about/ gives 200, pathname /app/about/"},
		{fixture: base, target: "/about", status: 200, route: "/about", pathname: "/about", ref: "astro-behavior §14.2: without the base /about is answered like the control (the base is optional)"},
		{fixture: base, target: "/", status: 200, route: "/", ref: "astro-behavior §14.2: without the base / is the index"},
		{fixture: base, target: "/app/blog/caf%C3%A9", status: 200, route: "/blog/[slug]", params: P{"slug": "café"}, ref: "astro-behavior §14.2: every case equals the control with /app in front"},
		{fixture: base, target: "/nope", status: 404, route: "/404", ref: "astro-behavior §14.2: /nope like the control: 404 page"},
		{fixture: base, target: "/app/nope", status: 404, route: "/404", ref: "astro-behavior §14.2: /app/nope: 404 page"},
		{fixture: base, target: "/appx", status: 404, route: "/404", ref: "astro-behavior §14.2: /appx gives the 404 page"},
		{fixture: base, target: "/APP/", status: 404, route: "/404", ref: "astro-behavior §14.2: /APP/ gives the 404 page"},
		{fixture: base, target: "/app/about//", status: 301, location: "/app/about/", ref: "astro-behavior §14.2: /app/about// gives 301 (astro) → /app/about/"},
		{fixture: base, target: "/app//", status: 301, location: "/app/", ref: "astro-behavior §14.2: /app// gives 301 → /app/ (the base is kept)"},
		{fixture: base, target: "/app//about", status: 200, route: "/about", ref: "astro-behavior §14.2: /app//about gives 200 /about"},
		{fixture: base, target: "/app/robots.txt", status: 404, route: "/404", ref: "astro-behavior §8, §14.2: only the adapter serves files; app.render gives the 404 page"},
		{fixture: base, target: "/app/404", status: 404, route: "/404", ref: "astro-behavior §14.2: /app/404 is the 404 route"},
	}
	for _, row := range rows {
		t.Run(rowName(row.method, row.target), row.run)
	}
}
