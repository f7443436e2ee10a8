// Package app is the reference App of adapter-conformance: the Go stand-in for
// Astro's `astro/app`. An adapter builds one with New(manifest) and hands it the
// requests its host receives; the App routes, decodes and renders them exactly as
// Astro 7 does (see ../shared/reference/astro-behavior.md), so that the kit can
// compare what an adapter returns with what the App itself produced.
//
// A fixture app is data, not code: its routes name built-in actions (echo,
// cookies, stream, ...) rather than carrying handlers. That is what lets the same
// fixture be exported to a directory and loaded by an out-of-process adapter.
package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"sort"
	"strings"
)

// TrailingSlash is Astro's `trailingSlash` config value.
type TrailingSlash string

const (
	// TrailingSlashIgnore matches a route with or without a trailing slash (Astro's default).
	TrailingSlashIgnore TrailingSlash = "ignore"
	// TrailingSlashAlways requires the slash; render redirects paths without it.
	TrailingSlashAlways TrailingSlash = "always"
	// TrailingSlashNever forbids the slash; render redirects paths with it.
	TrailingSlashNever TrailingSlash = "never"
)

// RouteType says whether a route renders a page (text/html) or runs an endpoint.
type RouteType string

const (
	// RoutePage is an .astro page: any method renders it.
	RoutePage RouteType = "page"
	// RouteEndpoint is an API route with per-method handlers.
	RouteEndpoint RouteType = "endpoint"
)

// Manifest is what a build produces and what the App is built from. It is the
// seed's SSRManifest reduced to what routing and rendering need.
type Manifest struct {
	// Name identifies the fixture app in reports.
	Name string `json:"name"`
	// Base is Astro's `base`, e.g. "/app". Empty or "/" means none.
	Base string `json:"base,omitempty"`
	// TrailingSlash defaults to "ignore".
	TrailingSlash TrailingSlash `json:"trailingSlash,omitempty"`
	// Routes are the pages and endpoints. A page whose pattern is "/404" is the
	// custom 404 page, "/500" the 500 page.
	Routes []*Route `json:"routes"`
	// Assets are the URL paths of static files (Astro's manifest.assets). The
	// App never matches or serves them: serving files is the adapter's job.
	Assets []string `json:"assets,omitempty"`
	// Security is Astro's `security` config. Absent, it takes Astro 7's
	// defaults: checkOrigin on.
	Security *Security `json:"security,omitempty"`

	// Public holds the static files, rooted so that Assets[i] (without its
	// leading slash) names a file in it. Set by the loaders; nil when the
	// manifest was parsed without a directory.
	Public fs.FS `json:"-"`
	// Source names the file the manifest came from, for error messages.
	Source string `json:"-"`
	// Observer, when set, sees every request an App built from this manifest
	// renders, with the response it returned. The kit sets it on the manifest
	// it hands to an adapter, so it can compare what the App received with
	// what the client sent, and what the App returned with what the client got.
	Observer RenderObserver `json:"-"`
}

// Security is Astro's `security` config block.
type Security struct {
	// CheckOrigin is Astro's `security.checkOrigin`: nil or true turns the
	// check on (Astro 7's default), false turns it off. With it on, Render
	// answers a cross-site form submission, or an unsafe request without a
	// content type whose Origin is not the request's own, with 403
	// (astro-behavior.md 3).
	CheckOrigin *bool `json:"checkOrigin,omitempty"`
}

// ChecksOrigin reports whether the App applies Astro's checkOrigin rule:
// true unless the manifest sets `security.checkOrigin` to false.
func (m *Manifest) ChecksOrigin() bool {
	return m == nil || m.Security == nil || m.Security.CheckOrigin == nil || *m.Security.CheckOrigin
}

// RenderObserver is told of each Render call, before the response goes back
// to the adapter. It must not consume resp.Body, but may replace it with a
// reader that passes the same bytes through, to record them.
type RenderObserver func(r *http.Request, resp *http.Response)

// Route is one entry of the route table.
type Route struct {
	// Pattern is the route as written in src/pages: "/blog/[slug]",
	// "/docs/[...path]", "/about". Segments are static text, a whole-segment
	// "[name]" parameter, or a final "[...name]" rest parameter.
	Pattern string `json:"route"`
	// Type is "page" or "endpoint".
	Type RouteType `json:"type"`
	// Page describes what a page renders. Optional for pages.
	Page *PageSpec `json:"page,omitempty"`
	// Handlers maps an HTTP method, or "ALL", to the endpoint's action.
	Handlers map[string]*Action `json:"handlers,omitempty"`

	// Internal marks a route the App adds itself (Astro's origin "internal"),
	// such as the default 404 page.
	Internal bool `json:"-"`

	// Params are the parameter names in pattern order (derived).
	Params []string `json:"-"`
	// segments is the parsed pattern (derived).
	segments []segment
	// index is the position in Manifest.Routes (derived), used for stable ordering.
	index int
}

// PageSpec says what a page prints besides its markers.
type PageSpec struct {
	// Title goes into <title> and <h1>.
	Title string `json:"title,omitempty"`
	// Action, when set, replaces the normal rendering: "throws" (the page
	// fails), "redirect" (Astro.redirect), "status" (Astro.response.status =
	// Status with the page body), "null" (a null-body response with Status,
	// rerouted to the 404/500 page), "cookies" (sets cookies through the cookie
	// API and raw headers).
	Action string `json:"action,omitempty"`
	// Status is used by the "status", "redirect" and "null" actions.
	Status int `json:"status,omitempty"`
	// Location is used by "redirect".
	Location string `json:"location,omitempty"`
	// Cookies and RawCookies are used by "cookies".
	Cookies    []CookieSpec `json:"cookies,omitempty"`
	RawCookies []string     `json:"rawCookies,omitempty"`
}

// Action is a built-in endpoint behavior. Which fields matter depends on Kind;
// see actions.go for what each kind returns.
type Action struct {
	// Kind is one of: echo, text, status, cookies, binary, stream, large,
	// headers, redirect, throws, null, invalid-status.
	Kind string `json:"action"`
	// Status for text, redirect and null.
	Status int `json:"status,omitempty"`
	// StatusText overrides the reason phrase (Astro passes a custom statusText through).
	StatusText string `json:"statusText,omitempty"`
	// Body and ContentType for text.
	Body        string `json:"body,omitempty"`
	ContentType string `json:"contentType,omitempty"`
	// Headers are appended in order, so a name may repeat ("headers" action).
	Headers []HeaderSpec `json:"headers,omitempty"`
	// Location for redirect.
	Location string `json:"location,omitempty"`
	// Cookies are set through the App's cookie API; RawCookies are appended
	// as raw Set-Cookie header values ("cookies" action).
	Cookies    []CookieSpec `json:"cookies,omitempty"`
	RawCookies []string     `json:"rawCookies,omitempty"`
	// Chunks and DelayMillis shape the "stream" action.
	Chunks      int `json:"chunks,omitempty"`
	DelayMillis int `json:"delayMillis,omitempty"`
	// Size is the byte count of the "large" action.
	Size int `json:"size,omitempty"`
}

// HeaderSpec is one header line.
type HeaderSpec struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// CookieSpec is a cookie set through the App's cookie API (Astro.cookies.set).
type CookieSpec struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	Path     string `json:"path,omitempty"`
	MaxAge   int    `json:"maxAge,omitempty"`
	HTTPOnly bool   `json:"httpOnly,omitempty"`
	Secure   bool   `json:"secure,omitempty"`
	SameSite string `json:"sameSite,omitempty"`
}

// knownActions lists the endpoint action kinds the App implements.
var knownActions = map[string]bool{
	"echo": true, "text": true, "status": true, "cookies": true, "binary": true,
	"stream": true, "large": true, "headers": true, "redirect": true, "throws": true,
	"null": true, "invalid-status": true, "stream-state": true,
}

var knownPageActions = map[string]bool{
	"": true, "throws": true, "redirect": true, "status": true, "null": true, "cookies": true,
}

var knownMethods = map[string]bool{
	"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true,
	"DELETE": true, "OPTIONS": true, "ALL": true,
}

// ManifestError names the file, the route and what is wrong with a manifest.
type ManifestError struct {
	Source string // file name, or "" when parsed from bytes without one
	Route  string // the route pattern, or "" for a manifest-level problem
	Field  string // the offending field, or ""
	Reason string
}

func (e *ManifestError) Error() string {
	var b strings.Builder
	b.WriteString("manifest")
	if e.Source != "" {
		b.WriteString(" " + e.Source)
	}
	if e.Route != "" {
		fmt.Fprintf(&b, ": route %q", e.Route)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %s", e.Field)
	}
	b.WriteString(": " + e.Reason)
	return b.String()
}

// ParseManifest decodes and validates a manifest. source names where the bytes
// came from, for error messages. Unknown fields are errors: a typo in a
// fixture must not silently change what is tested.
func ParseManifest(data []byte, source string) (*Manifest, error) {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, &ManifestError{Source: source, Reason: "invalid JSON: " + err.Error()}
	}
	if dec.More() {
		return nil, &ManifestError{Source: source, Reason: "trailing data after the JSON object"}
	}
	m.Source = source
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// LoadManifest reads dir/manifest.json and, when dir/public exists, adds its
// files to Assets and sets Public.
func LoadManifest(dir string) (*Manifest, error) {
	return LoadManifestFS(os.DirFS(dir), dir)
}

// LoadManifestFS is LoadManifest over any file system (the fixtures embed one).
// label names the directory in error messages.
func LoadManifestFS(fsys fs.FS, label string) (*Manifest, error) {
	source := path.Join(label, "manifest.json")
	data, err := fs.ReadFile(fsys, "manifest.json")
	if err != nil {
		return nil, &ManifestError{Source: source, Reason: "cannot read: " + err.Error()}
	}
	m, err := ParseManifest(data, source)
	if err != nil {
		return nil, err
	}
	public, err := fs.Sub(fsys, "public")
	if err != nil {
		return nil, &ManifestError{Source: source, Reason: "public directory: " + err.Error()}
	}
	var files []string
	walkErr := fs.WalkDir(public, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if walkErr != nil && !errors.Is(walkErr, fs.ErrNotExist) {
		return nil, &ManifestError{Source: source, Reason: "public directory: " + walkErr.Error()}
	}
	if walkErr == nil {
		m.Public = public
		seen := map[string]bool{}
		for _, a := range m.Assets {
			seen[a] = true
		}
		base := strings.TrimSuffix(m.Base, "/")
		for _, f := range files {
			// Astro's manifest.assets holds base-prefixed paths (astro-behavior.md 14.2).
			u := base + "/" + f
			if !seen[u] {
				m.Assets = append(m.Assets, u)
				seen[u] = true
			}
		}
		sort.Strings(m.Assets)
	}
	return m, nil
}

// Validate checks the manifest and derives the parsed patterns. Errors name
// the route and the field.
func (m *Manifest) Validate() error {
	bad := func(route, field, format string, args ...any) error {
		return &ManifestError{Source: m.Source, Route: route, Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	if m.Name == "" {
		return bad("", "name", "must not be empty")
	}
	switch m.TrailingSlash {
	case "":
		m.TrailingSlash = TrailingSlashIgnore
	case TrailingSlashIgnore, TrailingSlashAlways, TrailingSlashNever:
	default:
		return bad("", "trailingSlash", "must be ignore, always or never, not %q", m.TrailingSlash)
	}
	if m.Base != "" && m.Base != "/" {
		if !strings.HasPrefix(m.Base, "/") || strings.Contains(m.Base, "//") || strings.ContainsAny(m.Base, "?#[]") {
			return bad("", "base", "must be an absolute path such as /app, not %q", m.Base)
		}
	}
	if len(m.Routes) == 0 {
		return bad("", "routes", "at least one route is required")
	}
	seen := map[string]string{}
	for i, r := range m.Routes {
		if r == nil {
			return bad(fmt.Sprintf("#%d", i), "", "route is null")
		}
		r.index = i
		segs, params, err := parsePattern(r.Pattern)
		if err != nil {
			return bad(r.Pattern, "route", "%s", err.Error())
		}
		r.segments, r.Params = segs, params
		key := shapeKey(segs)
		if prev, ok := seen[key]; ok {
			return bad(r.Pattern, "route", "has the same shape as route %q: one of them could never match", prev)
		}
		seen[key] = r.Pattern
		switch r.Type {
		case RoutePage:
			if len(r.Handlers) > 0 {
				return bad(r.Pattern, "handlers", "a page has no handlers; use type endpoint")
			}
			if r.Page != nil {
				if !knownPageActions[r.Page.Action] {
					return bad(r.Pattern, "page.action", "unknown page action %q", r.Page.Action)
				}
				if err := checkCookies(r.Page.Cookies); err != nil {
					return bad(r.Pattern, "page.cookies", "%s", err.Error())
				}
			}
		case RouteEndpoint:
			if r.Page != nil {
				return bad(r.Pattern, "page", "an endpoint has no page")
			}
			if len(r.Handlers) == 0 {
				return bad(r.Pattern, "handlers", "an endpoint needs at least one method handler")
			}
			for method, a := range r.Handlers {
				if !knownMethods[method] {
					return bad(r.Pattern, "handlers."+method, "unknown method (use GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS or ALL)")
				}
				if a == nil {
					return bad(r.Pattern, "handlers."+method, "handler is null")
				}
				if !knownActions[a.Kind] {
					return bad(r.Pattern, "handlers."+method+".action", "unknown action %q", a.Kind)
				}
				if a.Kind == "status" && (len(r.Params) == 0 || r.Params[len(r.Params)-1] != "code") {
					return bad(r.Pattern, "handlers."+method, "the status action needs a [code] parameter")
				}
				if a.Size < 0 || a.Chunks < 0 || a.DelayMillis < 0 {
					return bad(r.Pattern, "handlers."+method, "size, chunks and delayMillis must not be negative")
				}
				if err := checkCookies(a.Cookies); err != nil {
					return bad(r.Pattern, "handlers."+method+".cookies", "%s", err.Error())
				}
			}
		default:
			return bad(r.Pattern, "type", "must be page or endpoint, not %q", r.Type)
		}
	}
	for _, a := range m.Assets {
		if !strings.HasPrefix(a, "/") {
			return bad("", "assets", "asset %q must be an absolute URL path", a)
		}
	}
	return nil
}

func checkCookies(cs []CookieSpec) error {
	for _, c := range cs {
		if c.Name == "" || strings.ContainsAny(c.Name, "=;, \t\r\n") {
			return fmt.Errorf("invalid cookie name %q", c.Name)
		}
		switch strings.ToLower(c.SameSite) {
		case "", "lax", "strict", "none":
		default:
			return fmt.Errorf("cookie %q: sameSite must be lax, strict or none", c.Name)
		}
	}
	return nil
}

// NotFoundRoute returns the custom 404 page, or nil when the app has none.
func (m *Manifest) NotFoundRoute() *Route { return m.routeByPattern("/404") }

// ErrorRoute returns the custom 500 page, or nil when the app has none.
func (m *Manifest) ErrorRoute() *Route { return m.routeByPattern("/500") }

func (m *Manifest) routeByPattern(p string) *Route {
	for _, r := range m.Routes {
		if r.Pattern == p && r.Type == RoutePage {
			return r
		}
	}
	return nil
}
