package app

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// routeError is a failure inside a route: what Astro catches and turns into
// a 500 (astro-behavior.md 6). Its message may reach a 500 page; a stack
// trace never does.
type routeError struct{ msg string }

func (e *routeError) Error() string { return e.msg }

// result is what a route produced, before the App turns it into an
// *http.Response. A nil body with nullBody set is JavaScript's
// `new Response(null, {status})`, which pages reroute to an error page.
type result struct {
	status     int
	statusText string
	header     http.Header
	body       io.ReadCloser
	length     int64 // -1 when unknown (streams)
	nullBody   bool

	// Room for what the response is made of, so that a page's result, its
	// *http.Response, its body reader and its Content-Type value are one
	// allocation (issue 19 item 5). A result is made for one response.
	resp        http.Response
	bytesBody   bytesBody
	contentType [1]string
}

// bytesBody is a body held in memory: a bytes.Reader (which io.Copy writes
// out in one WriteTo) whose Close does nothing, as io.NopCloser's.
type bytesBody struct{ bytes.Reader }

func (*bytesBody) Close() error { return nil }

func bytesResult(status int, contentType string, body []byte) *result {
	res := &result{}
	res.init(status, contentType, body)
	return res
}

// init makes a zero result the result of a body held in memory.
func (res *result) init(status int, contentType string, body []byte) {
	res.status, res.length = status, int64(len(body))
	if contentType != "" {
		// The value slice's capacity is 1, so Header.Add copies it
		// rather than writing past it.
		res.contentType[0] = contentType
		res.header = http.Header{"Content-Type": res.contentType[:1:1]}
	} else {
		res.header = http.Header{}
	}
	res.bytesBody.Reset(body)
	res.body = &res.bytesBody
}

func nullResult(status int) *result {
	return &result{status: status, header: http.Header{}, nullBody: true}
}

// locationResult is a redirect as Astro.redirect and ctx.redirect make it
// (astro-behavior.md 10): the status, 302 when none is given, the Location
// kept as given (relative stays relative), and no body.
func locationResult(status int, location string) *result {
	if status == 0 {
		status = http.StatusFound
	}
	res := nullResult(status)
	res.header.Set("Location", location)
	return res
}

// renderContext is one request in flight: Astro's APIContext.
type renderContext struct {
	app   *App
	r     *http.Request
	o     *renderOptions
	opts  renderOptions // what o points to when Render made this context
	route *Route
	// params are the route's parameters. After a trie match they are held
	// as paramNames and paramValues instead, and made a map only when a
	// route asks for one (paramsMap): a page's markers read the lists.
	params      map[string]string
	paramNames  []string
	paramValues []string
	pathname    string   // Astro.url.pathname: decoded, encoded again as a WHATWG URL does, slashes collapsed, base kept
	decoded     string   // the decoded pathname, slashes collapsed, base kept: what routing matches
	cookies     []string // set through the cookie API
	// requestPath is requestPath(r) once Render has read it, or "".
	requestPath string
	captured    [4]string // room for the route's parameter values
	// res is room for one result (see newBytesResult), so that a page
	// costs the App one allocation for the context, the result and the
	// response together.
	res      result
	resTaken bool
	// page is room for the page's bytes, taken with res. It comes last so
	// the garbage collector, which scans an object up to its last pointer,
	// never reads it.
	page [448]byte
}

// newPageResult is the result of a page with the given markers, in the
// context's own room (res and page) the first time.
func (c *renderContext) newPageResult(status int, m *pageMarkers) *result {
	if c.resTaken {
		return bytesResult(status, "text/html", m.html())
	}
	return c.newBytesResult(status, "text/html", m.appendHTML(c.page[:0]))
}

// newBytesResult is bytesResult in the context's own room the first time,
// in a new allocation after that.
func (c *renderContext) newBytesResult(status int, contentType string, body []byte) *result {
	if c.resTaken {
		return bytesResult(status, contentType, body)
	}
	c.resTaken = true
	c.res.init(status, contentType, body)
	return &c.res
}

// paramsMap is the route's parameters as a map, made from the lists when
// they were left as lists.
func (c *renderContext) paramsMap() map[string]string {
	if c.params == nil {
		c.params = paramMap(c.paramNames, c.paramValues)
	}
	return c.params
}

// param is one parameter of the route, "" when it has none of that name.
func (c *renderContext) param(name string) string {
	if c.params != nil {
		return c.params[name]
	}
	if i := slices.Index(c.paramNames, name); i >= 0 && i < len(c.paramValues) {
		return c.paramValues[i]
	}
	return ""
}

// Render renders the request and returns the response. It never panics:
// a failing route gives the 500 page or an empty 500, an unmatched path the
// 404 page, a path encoded more than ten times a 400 (astro-behavior.md 1, 5, 6).
func (a *App) Render(r *http.Request, opts ...RenderOption) *http.Response {
	resp := a.render(r, opts)
	if obs := a.manifest.Observer; obs != nil && r != nil {
		obs(r, resp)
	}
	return resp
}

func (a *App) render(r *http.Request, opts []RenderOption) (resp *http.Response) {
	// The options live in the request's context: one allocation for both.
	c := &renderContext{app: a, r: r}
	c.o = &c.opts
	o := c.o
	for _, f := range opts {
		if f != nil {
			f(o)
		}
	}
	if r == nil {
		return newResponse(nil, &result{status: http.StatusBadRequest, header: http.Header{}, nullBody: true}, o, nil)
	}
	defer func() {
		if p := recover(); p != nil {
			// The message may reach a 500 page, like Astro's error.message;
			// the word "panic" and the stack never do (astro-behavior.md 6).
			resp = a.renderError(&renderContext{app: a, r: r, o: o}, &routeError{msg: fmt.Sprint(p)}, nil)
		}
	}()
	c.requestPath = requestPath(r)
	// Astro 7's request handler: a path encoded too many times first, then
	// the trailing-slash redirect, then the origin check, which runs before
	// routing, so it answers for unmatched paths too (astro-behavior.md 1,
	// 3, 14; astro/dist/core/routing/handler.js handleRequest). A plain path
	// is already its own dot-segment-free, decoded, slash-collapsed form
	// (plainPath), so it skips those steps.
	plain := plainPath(c.requestPath)
	raw, decoded := c.requestPath, c.requestPath
	if !plain {
		raw = removeDotSegments(raw)
		var err error
		if decoded, err = decodePathname(raw); err != nil {
			// MultiLevelEncodingError: 400 with no body and no content-type.
			return newResponse(r, nullResult(http.StatusBadRequest), o, nil)
		}
	}
	if o.route == nil {
		if loc, ok := a.trailingSlashRedirect(raw); ok {
			return newResponse(r, redirectResult(r, raw, loc), o, nil)
		}
	}
	if res := a.checkOrigin(r); res != nil {
		return newResponse(r, res, o, nil)
	}
	if plain {
		c.pathname, c.decoded = encodePathname(decoded), decoded
	} else {
		c.pathname, c.decoded = urlPathname(decoded), collapseSlashes(decoded)
	}
	if o.route != nil {
		// The routeData is trusted (astro-behavior.md 12): its params come
		// from its own pattern, whatever route the URL would match.
		c.route = o.route
		p := a.stripBase(c.decoded)
		if o.route.Type == RoutePage && strings.HasSuffix(p, ".html") {
			p = p[:len(p)-len(".html")]
		}
		var fits bool
		c.params, fits = a.routeParams(o.route, p)
		if _, names := routeSegments(o.route); !fits && len(names) > 0 {
			// astro-behavior.md 6: routeData that does not fit the URL is a 500.
			return a.renderError(c, &routeError{msg: "Missing parameter: " + names[0]}, nil)
		}
	} else {
		c.route, c.params, c.paramNames, c.paramValues = a.matchForRender(c.decoded, c.captured[:0])
		if c.route == nil {
			return a.renderNotFound(c, nil)
		}
	}
	if name := missingParam(c.route, c.param); name != "" {
		// A dynamic page whose params are gone once ".html" is dropped
		// (/blog/.html) fails like Astro's route generator does.
		return a.renderError(c, &routeError{msg: "Missing parameter: " + name}, nil)
	}
	return a.renderRoute(c)
}

// isNotFound and isErrorPage recognise the 404 and 500 pages by pattern, as
// Astro does (a route ending in /404 or /500), so a WithRoute route taken from
// the manifest rather than from Match is treated the same.
func (a *App) isNotFound(r *Route) bool {
	return r == a.notFound || r.Type == RoutePage && r.Pattern == "/404"
}

func (a *App) isErrorPage(r *Route) bool {
	return r == a.errorPage || a.errorPage != nil && r.Type == RoutePage && r.Pattern == "/500"
}

func (a *App) renderRoute(c *renderContext) *http.Response {
	route := c.route
	if a.isNotFound(route) {
		return a.renderNotFound(c, nil)
	}
	if route.Type == RouteEndpoint {
		return a.renderEndpoint(c)
	}
	res, err := c.renderPage(route, http.StatusOK)
	if err == nil {
		err = checkStatus(res.status)
	}
	if err != nil {
		return a.renderError(c, err, nil)
	}
	if res.nullBody && (res.status == http.StatusNotFound || res.status == http.StatusInternalServerError) {
		// Pages' null-body 404/500 are rerouted to the error page (astro-behavior.md 7).
		if res.status == http.StatusNotFound {
			return a.renderNotFound(c, res.header)
		}
		return a.renderError(c, &routeError{msg: "page returned a null 500"}, res.header)
	}
	if a.isErrorPage(route) {
		res.status, res.statusText = http.StatusInternalServerError, ""
	}
	return newResponse(c.r, res, c.o, c.cookies)
}

// handlerFor picks the endpoint handler: the method's own, then ALL; HEAD
// falls back to GET last (astro-behavior.md 3 and 4).
func handlerFor(route *Route, method string) *Action {
	if h := route.Handlers[method]; h != nil {
		return h
	}
	if h := route.Handlers["ALL"]; h != nil {
		return h
	}
	if method == http.MethodHead {
		return route.Handlers[http.MethodGet]
	}
	return nil
}

func (a *App) renderEndpoint(c *renderContext) *http.Response {
	h := handlerFor(c.route, c.r.Method)
	if h == nil {
		// No handler for the method: a null-body 404 that is rerouted to the
		// 404 page. Never 405, and no Allow header (astro-behavior.md 3).
		return a.renderNotFound(c, nil)
	}
	res, err := c.runAction(h)
	if err == nil {
		err = checkStatus(res.status)
	}
	if err != nil {
		return a.renderError(c, err, nil)
	}
	if c.r.Method == http.MethodHead && !res.nullBody {
		// new Response(null, response): headers (incl. every Set-Cookie) kept.
		if res.body != nil {
			res.body.Close()
		}
		res.body, res.nullBody, res.length = nil, true, 0
	}
	// Endpoints are never rerouted, even a null-body 404 (astro-behavior.md 7).
	return newResponse(c.r, res, c.o, c.cookies)
}

// renderNotFound renders the custom 404 page or Astro's default one, with
// the status forced to 404. Headers of the failing route (Set-Cookie among
// them) are merged in; the content type is the page's (astro-behavior.md 5).
func (a *App) renderNotFound(c *renderContext, carried http.Header) *http.Response {
	var res *result
	if a.notFound.Internal {
		res = bytesResult(http.StatusNotFound, "text/html", defaultNotFoundPage(c.decoded))
	} else {
		var err error
		res, err = c.renderPage(a.notFound, http.StatusNotFound)
		if err != nil || res.nullBody {
			return a.renderError(c, err, carried)
		}
	}
	res.status, res.statusText = http.StatusNotFound, "Not Found"
	mergeCarried(res.header, carried)
	return newResponse(c.r, res, c.o, c.cookies)
}

// renderError renders the 500 page, or an empty 500 with no content type
// when the app has none (astro-behavior.md 6).
func (a *App) renderError(c *renderContext, cause error, carried http.Header) *http.Response {
	if a.errorPage != nil {
		ec := &renderContext{app: a, r: c.r, o: c.o, route: a.errorPage, params: map[string]string{}, pathname: c.pathname, decoded: c.decoded, cookies: c.cookies}
		res, err := ec.renderErrorPage(cause)
		if err == nil {
			mergeCarried(res.header, carried)
			return newResponse(c.r, res, c.o, ec.cookies)
		}
	}
	res := nullResult(http.StatusInternalServerError)
	res.statusText = "Internal Server Error"
	mergeCarried(res.header, carried)
	res.header.Del("Content-Type")
	return newResponse(c.r, res, c.o, c.cookies)
}

// checkStatus is the check of JavaScript's Response constructor: a status
// outside 200..599 is a RangeError, which Astro turns into a 500
// (astro-behavior.md 6, "endpoint builds an invalid Response").
func checkStatus(status int) error {
	if status < 200 || status > 599 {
		return &routeError{msg: fmt.Sprintf("RangeError: invalid status code %d", status)}
	}
	return nil
}

// orOK is a status that may be unset (0), defaulting like Response's 200.
func orOK(status int) int {
	if status == 0 {
		return http.StatusOK
	}
	return status
}

func mergeCarried(dst, carried http.Header) {
	for k, vs := range carried {
		if k == "Content-Type" {
			continue
		}
		for _, v := range vs {
			dst.Add(k, v)
		}
	}
}

// newResponse turns a route's result into the *http.Response an adapter sends.
func newResponse(r *http.Request, res *result, o *renderOptions, cookies []string) *http.Response {
	resp := &res.resp
	*resp = http.Response{
		Status:     statusLine(res.status, res.statusText),
		StatusCode: res.status,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     res.header,
		Body:       res.body,
		// Cookie-API cookies travel with the request so SetCookies can find them.
		Request: r,
	}
	if resp.Header == nil {
		resp.Header = http.Header{}
	}
	if res.nullBody || res.body == nil {
		resp.Body, resp.ContentLength = http.NoBody, 0
	} else {
		resp.ContentLength = res.length
	}
	if len(cookies) > 0 {
		if o.addCookieHeader {
			for _, ck := range cookies {
				resp.Header.Add("Set-Cookie", ck)
			}
		}
		if r != nil {
			resp.Request = withCookies(r, cookies)
		}
	}
	return resp
}

// statusLine is Response.Status: the code, then the status text (the
// standard one when text is empty), "" for a code Go has no text for.
func statusLine(code int, text string) string {
	std := http.StatusText(code)
	if text == "" {
		text = std
	}
	if text == std && code >= 0 && code < len(statusLines) && statusLines[code] != "" {
		return statusLines[code]
	}
	status := strconv.Itoa(code)
	if text != "" {
		status += " " + text
	}
	return status
}

// statusLines holds "200 OK" and the like for every code Go has a text for,
// so a response's status line costs no allocation.
var statusLines = func() (lines [600]string) {
	for code := range lines {
		if text := http.StatusText(code); text != "" {
			lines[code] = strconv.Itoa(code) + " " + text
		}
	}
	return lines
}()

// trailingSlashRedirect is Astro core's redirect (astro-behavior.md 2, 14):
// multiple trailing slashes always collapse; under "always" a path without a
// slash gets one unless it looks like a file; under "never" the slash goes.
// "/" and internal paths ("/_", "/@", "/.", "//" but not slashes alone) are left alone.
func (a *App) trailingSlashRedirect(p string) (string, bool) {
	if p == "/" || isInternalPath(p) {
		return "", false
	}
	ts := a.manifest.TrailingSlash
	if strings.HasSuffix(p, "//") {
		q := strings.TrimRight(p, "/")
		if ts != TrailingSlashNever || q == "" {
			q += "/"
		}
		return q, true
	}
	switch ts {
	case TrailingSlashAlways:
		if !strings.HasSuffix(p, "/") && !hasFileExtension.MatchString(p) {
			return p + "/", true
		}
	case TrailingSlashNever:
		if strings.HasSuffix(p, "/") {
			return strings.TrimSuffix(p, "/"), true
		}
	}
	return "", false
}

var hasFileExtension = regexp.MustCompile(`/[^/]+\.\w+$`)

func isInternalPath(p string) bool {
	if strings.Trim(p, "/") == "" {
		return false
	}
	return strings.HasPrefix(p, "/_") || strings.HasPrefix(p, "/@") || strings.HasPrefix(p, "/.") || strings.HasPrefix(p, "//")
}

// redirectResult is Astro's trailing-slash redirect
// (astro/dist/core/routing/trailing-slash-handler.js and 3xx.js;
// astro-behavior.md 2, 14): 301 for GET, 308 for every other method (HEAD
// included), Location the target path followed by the query verbatim, and
// the "Redirecting to" page sent as text/plain;charset=UTF-8. As in Astro,
// the page's links name the path the request came for (url.pathname, not
// the target), its canonical link the target without the query, and its
// "from" the whole request URL.
func redirectResult(r *http.Request, from, to string) *result {
	status := http.StatusPermanentRedirect
	if r.Method == http.MethodGet {
		status = http.StatusMovedPermanently
	}
	loc := to
	if q := requestQuery(r); q != "" {
		loc += "?" + q
	}
	scheme, host := requestSchemeHost(r)
	requestURL := scheme + "://" + host + from
	if q := requestQuery(r); q != "" {
		requestURL += "?" + q
	}
	res := bytesResult(status, "text/plain;charset=UTF-8", redirectPage(status, from, to, requestURL))
	res.header.Set("Location", loc)
	return res
}

// redirectPage is Astro's redirectTemplate (astro/dist/core/routing/3xx.js),
// byte for byte; values are escaped as html-escaper's escape does.
func redirectPage(status int, relative, absolute, from string) []byte {
	delay := 0
	if status == http.StatusFound {
		delay = 2
	}
	rel := htmlEscaper.Replace(relative)
	fromHTML := ""
	if from != "" {
		fromHTML = "from <code>" + htmlEscaper.Replace(from) + "</code> "
	}
	return []byte(fmt.Sprintf("<!doctype html>\n<title>Redirecting to: %s</title>\n<meta http-equiv=\"refresh\" content=\"%d;url=%s\">\n<meta name=\"robots\" content=\"noindex\">\n<link rel=\"canonical\" href=\"%s\">\n<body>\n\t<a href=\"%s\">Redirecting %sto <code>%s</code></a>\n</body>",
		rel, delay, rel, htmlEscaper.Replace(absolute), rel, fromHTML, rel))
}
