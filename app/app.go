package app

import (
	"context"
	"net/http"
	"strings"
)

// App is the reference App: astro/app's App in Go.
type App struct {
	manifest  *Manifest
	root      *node
	notFound  *Route // custom /404 page, or the internal default 404 route
	errorPage *Route // custom /500 page, or nil
	assets    map[string]bool
	base      string    // manifest base without its trailing slash; "" for none
	streams   streamLog // tagged streams (StreamTagHeader), for "stream-state"
}

// defaultNotFoundRoute stands for Astro's internal astro-default-404.astro:
// when an app has no 404 page, "/404" still matches it (astro-behavior.md 12).
func defaultNotFoundRoute() *Route {
	return &Route{Pattern: "/404", Type: RoutePage, Internal: true, segments: []segment{{segStatic, "404"}}}
}

// New builds an App from a manifest. The manifest is validated first, so a
// hand-built manifest gets the same errors as a loaded one.
func New(m *Manifest) (*App, error) {
	if m == nil {
		return nil, &ManifestError{Reason: "manifest is nil"}
	}
	// Work on a copy: Validate derives fields on each route, and an adapter
	// may build several Apps from one manifest concurrently.
	mc := *m
	mc.Routes = make([]*Route, len(m.Routes))
	for i, r := range m.Routes {
		if r != nil {
			rc := *r
			r = &rc
		}
		mc.Routes[i] = r
	}
	m = &mc
	if err := m.Validate(); err != nil {
		return nil, err
	}
	a := &App{manifest: m, root: &node{}, assets: map[string]bool{}}
	if m.Base != "" && m.Base != "/" {
		a.base = strings.TrimSuffix(m.Base, "/")
	}
	for _, r := range m.Routes {
		a.root.insert(r)
	}
	a.notFound = m.NotFoundRoute()
	if a.notFound == nil {
		a.notFound = defaultNotFoundRoute()
		a.root.insert(a.notFound)
	}
	a.errorPage = m.ErrorRoute()
	for _, p := range m.Assets {
		a.assets[p] = true
	}
	return a, nil
}

// Manifest returns the manifest the App was built from.
func (a *App) Manifest() *Manifest { return a.manifest }

// IsAsset reports whether an (encoded) URL path names a static file of the
// manifest. Adapters serve these themselves; the App never does.
func (a *App) IsAsset(urlPath string) bool { return a.assets[urlPath] }

// RouteMatch is a matched route with its parameters.
type RouteMatch struct {
	Route  *Route
	Params map[string]string
}

// Match returns the route that would render the request, or nil. Like
// Astro's app.match() it ignores the method, returns nil for static assets and
// for a path in the wrong trailing-slash form, and is stricter than Render
// about duplicate slashes: a leading "//" is collapsed, any other "//" is not
// (astro-behavior.md 2 and 12). A nil request matches nothing.
func (a *App) Match(r *http.Request) *Route {
	p, ok := a.matchPath(r)
	if !ok {
		return nil
	}
	// The common case allocates nothing: parameters are not captured.
	route, _ := a.find(a.root, a.stripBase(p), false)
	return route
}

// MatchParams is Match with the route's parameters.
func (a *App) MatchParams(r *http.Request) *RouteMatch {
	p, ok := a.matchPath(r)
	if !ok {
		return nil
	}
	return a.lookup(p)
}

// matchPath is the decoded pathname Match looks up, or false when Match
// returns nil before looking at the routes.
func (a *App) matchPath(r *http.Request) (string, bool) {
	if r == nil {
		return "", false
	}
	raw := requestPath(r)
	if plainPath(raw) {
		// Nothing to remove, collapse or decode.
		if a.assets[raw] {
			return "", false
		}
		return raw, true
	}
	raw = removeDotSegments(raw)
	if a.assets[raw] {
		return "", false
	}
	p := raw
	for strings.HasPrefix(p, "//") {
		p = p[1:]
	}
	if strings.Contains(p, "//") {
		return "", false
	}
	decoded, _ := decodePathname(p)
	return decoded, true
}

// lookup matches a decoded, slash-collapsed pathname against the route trie,
// stripping the base when present and applying the trailing-slash policy.
func (a *App) lookup(decoded string) *RouteMatch {
	route, params := a.routeAndParams(decoded, nil, false)
	if route == nil {
		return nil
	}
	return &RouteMatch{Route: route, Params: params}
}

// routeAndParams is lookup without the RouteMatch. captured is where the
// parameter values go (nil: a new slice). For Render, shared lets a route
// without parameters get the one read-only noParams map rather than a new
// one; MatchParams hands its map to the caller, so it never shares.
func (a *App) routeAndParams(decoded string, captured []string, shared bool) (*Route, map[string]string) {
	p := a.stripBase(decoded)
	if captured == nil {
		captured = make([]string, 0, 4)
	}
	route, values := a.findInto(a.root, p, captured)
	if route == nil {
		return nil, nil
	}
	if route.Type == RoutePage && len(route.Params) > 0 && strings.HasSuffix(p, ".html") {
		// Astro's getParams drops a trailing ".html" before it reads a
		// dynamic page's params: /blog/hello.html gives slug=hello, and
		// /blog/first-post.html gives /blog/[slug] with slug=first-post
		// (astro-behavior.md 14.3, last paragraph).
		params, _ := a.routeParams(route, p[:len(p)-len(".html")])
		return route, params
	}
	if shared && len(route.Params) == 0 {
		return route, noParams
	}
	return route, paramMap(route.Params, values)
}

// matchForRender is routeAndParams for Render: a route without parameters
// gets noParams, and a trie match leaves its parameters as names and values
// (see renderContext.params) instead of making a map.
func (a *App) matchForRender(decoded string, captured []string) (route *Route, params map[string]string, names, values []string) {
	p := a.stripBase(decoded)
	route, values = a.findInto(a.root, p, captured)
	switch {
	case route == nil:
		return nil, nil, nil, nil
	case len(route.Params) == 0:
		return route, noParams, nil, nil
	case route.Type == RoutePage && strings.HasSuffix(p, ".html"):
		// As routeAndParams: the params are read without the ".html".
		params, _ = a.routeParams(route, p[:len(p)-len(".html")])
		return route, params, nil, nil
	}
	return route, nil, route.Params, values
}

// noParams is the params of a route without parameters during Render. It
// is shared by every such render, so nothing may write to it: the App only
// reads params (page markers, echo, actions).
var noParams = map[string]string{}

// find applies the trailing-slash policy to a base-stripped pathname and
// walks the trie rooted at root.
func (a *App) find(root *node, p string, capture bool) (*Route, []string) {
	if !capture {
		return a.findInto(root, p, nil)
	}
	return a.findInto(root, p, make([]string, 0, 4))
}

// findInto is find that appends the parameter values to captured, or
// captures none when captured is nil.
func (a *App) findInto(root *node, p string, captured []string) (*Route, []string) {
	if p != "/" {
		if strings.HasSuffix(p, "/") {
			if a.manifest.TrailingSlash == TrailingSlashNever {
				return nil, nil
			}
			p = p[:len(p)-1]
		} else if a.manifest.TrailingSlash == TrailingSlashAlways {
			return nil, nil
		}
	} else {
		p = ""
	}
	return root.lookup(p, captured != nil, captured)
}

func paramMap(names, values []string) map[string]string {
	params := make(map[string]string, len(names))
	for i, name := range names {
		if i < len(values) && values[i] != "" {
			params[name] = values[i]
		}
	}
	return params
}

// routeParams reads route's params from a base-stripped pathname by testing
// the route's own pattern, as Astro's getParams does with routeData.pattern.
// ok is false when the pattern does not fit; params is then empty. The route
// need not come from this App (WithRoute may be handed any route).
func (a *App) routeParams(route *Route, p string) (params map[string]string, ok bool) {
	segs, names := routeSegments(route)
	if segs == nil && route.Pattern != "/" {
		return map[string]string{}, false
	}
	n := &node{}
	n.insert(&Route{segments: segs})
	r, values := a.find(n, p, true)
	if r == nil {
		return map[string]string{}, false
	}
	return paramMap(names, values), true
}

// routeSegments is the parsed pattern of a route, parsing it when the route
// was never validated (segments is nil for the pattern "/" too).
func routeSegments(route *Route) ([]segment, []string) {
	if route.segments != nil || route.Pattern == "/" {
		return route.segments, route.Params
	}
	segs, names, err := parsePattern(route.Pattern)
	if err != nil {
		return nil, nil
	}
	return segs, names
}

// missingParam names the first [param] of route that params lacks, or ""
// ("Missing parameter: slug" in Astro, astro-behavior.md 6).
func missingParam(route *Route, param func(name string) string) string {
	segs, _ := routeSegments(route)
	for _, s := range segs {
		if s.kind == segParam && param(s.text) == "" {
			return s.text
		}
	}
	return ""
}

// stripBase removes the base from a pathname when it is there. The base is
// optional: "/about" and "/app/about" both reach /about (astro-behavior.md 14.2).
func (a *App) stripBase(p string) string {
	if a.base == "" {
		return p
	}
	if p == a.base {
		return "/"
	}
	if strings.HasPrefix(p, a.base+"/") {
		return p[len(a.base):]
	}
	return p
}

// requestPath is the request's path as it came off the wire, still encoded,
// without a fragment: a "#" written on the request line ends the path, as
// the WHATWG URL parser reads it ("GET /about#frag" is /about;
// astro-behavior.md 1). An encoded "%23" stays in the path.
func requestPath(r *http.Request) string {
	if r.URL == nil {
		return "/"
	}
	var p string
	if i := strings.IndexByte(r.URL.RawPath, '#'); i >= 0 {
		// Go keeps a literal '#' of the request line in RawPath (it is not
		// a valid encoding, so EscapedPath would write it as %23).
		p = r.URL.RawPath[:i]
	} else {
		p = r.URL.EscapedPath()
	}
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	return p
}

// requestQuery is the request's raw query without a fragment. A fragment
// that starts in the path takes the query with it: in "/about#f?x=1"
// everything after "#" is the fragment.
func requestQuery(r *http.Request) string {
	if r.URL == nil || strings.IndexByte(r.URL.RawPath, '#') >= 0 {
		return ""
	}
	q, _, _ := strings.Cut(r.URL.RawQuery, "#")
	return q
}

// RenderOption configures one Render call (Astro's RenderOptions).
type RenderOption func(*renderOptions)

type renderOptions struct {
	addCookieHeader bool
	clientAddress   string
	hasClient       bool
	locals          map[string]any
	route           *Route
}

// AddCookieHeader makes Render append the cookies set through the App's cookie
// API as Set-Cookie lines (Astro's addCookieHeader; astro-behavior.md 9).
// Without it they are only available from SetCookies(resp).
func AddCookieHeader() RenderOption { return func(o *renderOptions) { o.addCookieHeader = true } }

// ClientAddress sets the address routes see as Astro.clientAddress. Without it,
// a route that asks for the client address gets none.
func ClientAddress(addr string) RenderOption {
	return func(o *renderOptions) { o.clientAddress, o.hasClient = addr, true }
}

// Locals passes per-request data to the route (Astro.locals).
func Locals(l map[string]any) RenderOption { return func(o *renderOptions) { o.locals = l } }

// WithRoute renders the given route without matching (Astro's routeData). The
// route is trusted: rendering "/nope" with the /about route renders /about.
func WithRoute(r *Route) RenderOption { return func(o *renderOptions) { o.route = r } }

type cookieKey struct{}

// SetCookies returns the cookies a route set through the App's cookie API, as
// Set-Cookie values, for a response rendered without AddCookieHeader
// (Astro's App.getSetCookieFromResponse).
func SetCookies(resp *http.Response) []string {
	if resp == nil || resp.Request == nil {
		return nil
	}
	v, _ := resp.Request.Context().Value(cookieKey{}).([]string)
	return v
}

func withCookies(r *http.Request, cookies []string) *http.Request {
	if len(cookies) == 0 {
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), cookieKey{}, cookies))
}
