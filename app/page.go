package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// A page as the App renders it: the HTML with the markers the suite reads
// back (the route, its params, Astro.url.pathname, the method), written
// without reflection or templates, since rendering speed is measured
// against a bare handler (BenchmarkRender).

// htmlEscaper is html-escaper's escape, which Astro uses: & < > ' " (Go's
// html.EscapeString writes " as &#34;, not &quot;).
var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&#39;", `"`, "&quot;")

// pageMarkers are what every page prints, so checks compare meaning rather
// than bytes: the route, its params, Astro.url.pathname, the raw request
// path and the method.
type pageMarkers struct {
	Route  string
	Params map[string]string
	// paramNames and paramValues stand for Params when it is nil (see
	// renderContext.params).
	paramNames, paramValues []string
	Pathname                string
	RawPath                 string
	Method                  string
	Title                   string
	Error                   string
}

func (m *pageMarkers) html() []byte {
	return m.appendHTML(make([]byte, 0, 256+2*len(m.Title)+len(m.Route)+len(m.Pathname)+len(m.RawPath)+len(m.Method)+2*len(m.Error)+32*(len(m.Params)+len(m.paramNames))))
}

// appendHTML appends the page to b.
func (m *pageMarkers) appendHTML(b []byte) []byte {
	b = append(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>"...)
	b = appendHTMLEscaped(b, m.Title)
	b = append(b, "</title></head>\n<body data-route=\""...)
	b = appendHTMLEscaped(b, m.Route)
	b = append(b, "\" data-params=\""...)
	if m.Params == nil && m.paramNames != nil {
		b = appendParamListAttr(b, m.paramNames, m.paramValues)
	} else {
		b = appendParamsAttr(b, m.Params)
	}
	b = append(b, "\" data-astro-url-pathname=\""...)
	b = appendHTMLEscaped(b, m.Pathname)
	b = append(b, "\" data-pathname=\""...)
	b = appendHTMLEscaped(b, m.RawPath)
	b = append(b, "\" data-method=\""...)
	b = appendHTMLEscaped(b, m.Method)
	b = append(b, "\">\n<h1>"...)
	b = appendHTMLEscaped(b, m.Title)
	b = append(b, "</h1>\n"...)
	if m.Error != "" {
		b = append(b, "<p data-error=\""...)
		b = appendHTMLEscaped(b, m.Error)
		b = append(b, "\">"...)
		b = appendHTMLEscaped(b, m.Error)
		b = append(b, "</p>\n"...)
	}
	return append(b, "</body></html>\n"...)
}

// appendHTMLEscaped appends s escaped as html.EscapeString escapes it.
func appendHTMLEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		if htmlSpecial[s[i]] {
			esc := htmlEscapes[s[i]]
			b = append(b, s[start:i]...)
			b = append(b, esc...)
			start = i + 1
		}
	}
	return append(b, s[start:]...)
}

// htmlEscapes are html.EscapeString's replacements, by byte.
var htmlEscapes = [256]string{'<': "&lt;", '>': "&gt;", '&': "&amp;", '\'': "&#39;", '"': "&#34;"}

// htmlSpecial marks the bytes htmlEscapes replaces.
var htmlSpecial = [256]bool{'<': true, '>': true, '&': true, '\'': true, '"': true}

// appendParamsAttr appends the params as json.Marshal writes them, escaped
// for an attribute value. Keys and values made of printable ASCII that JSON
// writes as they are (no '"', '\\', '<', '>' or '&') are written directly,
// keys sorted as json.Marshal sorts them; anything else goes through
// json.Marshal.
func appendParamsAttr(b []byte, params map[string]string) []byte {
	if params == nil {
		return append(b, "null"...)
	}
	var room [8]string
	keys := room[:0]
	for k, v := range params {
		if !jsonVerbatim(k) || !jsonVerbatim(v) {
			out, _ := json.Marshal(params)
			return appendHTMLEscaped(b, string(out))
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "&#34;"...)
		b = appendHTMLEscaped(b, k)
		b = append(b, "&#34;:&#34;"...)
		b = appendHTMLEscaped(b, params[k])
		b = append(b, "&#34;"...)
	}
	return append(b, '}')
}

// appendParamListAttr is appendParamsAttr for paramMap(names, values)
// without making the map.
func appendParamListAttr(b []byte, names, values []string) []byte {
	type param struct{ name, value string }
	var room [8]param
	list := room[:0]
	for i, name := range names {
		if i >= len(values) || values[i] == "" {
			continue // as paramMap leaves it out
		}
		if !jsonVerbatim(name) || !jsonVerbatim(values[i]) {
			return appendParamsAttr(b, paramMap(names, values))
		}
		list = append(list, param{name, values[i]})
	}
	slices.SortFunc(list, func(x, y param) int { return strings.Compare(x.name, y.name) })
	b = append(b, '{')
	for i, p := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "&#34;"...)
		b = appendHTMLEscaped(b, p.name)
		b = append(b, "&#34;:&#34;"...)
		b = appendHTMLEscaped(b, p.value)
		b = append(b, "&#34;"...)
	}
	return append(b, '}')
}

// jsonVerbatim reports whether json.Marshal writes s between its quotes as
// it is: printable ASCII other than '"' and '\\', and none of the '<', '>'
// and '&' it escapes for HTML.
func jsonVerbatim(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// ParsePageMarkers reads the markers back out of a page body. ok is false
// when the body is not one of the App's pages.
func ParsePageMarkers(body []byte) (route string, params map[string]string, pathname string, ok bool) {
	m := markerRe.FindSubmatch(body)
	if m == nil {
		return "", nil, "", false
	}
	route = html.UnescapeString(string(m[1]))
	if err := json.Unmarshal([]byte(html.UnescapeString(string(m[2]))), &params); err != nil {
		return "", nil, "", false
	}
	return route, params, html.UnescapeString(string(m[3])), true
}

var markerRe = regexp.MustCompile(`<body data-route="([^"]*)" data-params="([^"]*)" data-astro-url-pathname="([^"]*)"`)

func (c *renderContext) markers(route *Route) pageMarkers {
	title := route.Pattern
	if route.Page != nil && route.Page.Title != "" {
		title = route.Page.Title
	}
	raw := c.requestPath
	if raw == "" {
		raw = requestPath(c.r)
	}
	return pageMarkers{Route: route.Pattern, Params: c.params, paramNames: c.paramNames, paramValues: c.paramValues, Pathname: c.pathname, RawPath: raw, Method: c.r.Method, Title: title}
}

// renderPage renders a page route. status is the status of a normal render.
func (c *renderContext) renderPage(route *Route, status int) (*result, error) {
	spec := route.Page
	if spec == nil {
		spec = &PageSpec{}
	}
	switch spec.Action {
	case "throws":
		return nil, &routeError{msg: "page " + route.Pattern + " threw an intentional error"}
	case "redirect":
		return locationResult(spec.Status, spec.Location), nil
	case "null":
		return nullResult(orOK(spec.Status)), nil
	case "status":
		status = orOK(spec.Status)
	case "cookies":
		for _, ck := range spec.Cookies {
			c.cookies = append(c.cookies, serializeCookie(ck))
		}
	}
	m := c.markers(route)
	res := c.newPageResult(status, &m)
	if spec.Action == "status" {
		// Astro.response.status = 404 keeps Astro.response's statusText,
		// so the status line reads "404 OK" (astro-behavior.md 7, #161).
		res.statusText = "OK"
	}
	if spec.Action == "cookies" {
		for _, raw := range spec.RawCookies {
			res.header.Add("Set-Cookie", raw)
		}
	}
	return res, nil
}

func (c *renderContext) renderErrorPage(cause error) (*result, error) {
	res, err := c.renderPage(c.route, http.StatusInternalServerError)
	if err != nil || res.nullBody {
		if err == nil {
			err = errors.New("500 page returned no body")
		}
		return nil, err
	}
	if cause != nil && !res.nullBody {
		m := c.markers(c.route)
		m.Error = cause.Error()
		res = bytesResult(http.StatusInternalServerError, "text/html", m.html())
	}
	res.status, res.statusText = http.StatusInternalServerError, "Internal Server Error"
	return res, nil
}

// defaultNotFoundPage is Astro's built-in 404 page: the decoded path,
// HTML-escaped, without the query (astro-behavior.md 5).
func defaultNotFoundPage(pathname string) []byte {
	var b bytes.Buffer
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"UTF-8\"><title>404: Not Found</title></head>\n")
	b.WriteString("<body data-route=\"/404\" data-params=\"{}\" data-astro-url-pathname=\"" + html.EscapeString(pathname) + "\" data-default-404=\"true\">\n")
	b.WriteString("<main><h1>404: Not found</h1><p>Page not found.</p><pre>Path: " + html.EscapeString(pathname) + "</pre></main>\n</body></html>\n")
	return b.Bytes()
}
