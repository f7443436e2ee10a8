package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// These tests hold the fast paths of issue 19 (item 5) to what they replace:
// each is compared with the straightforward code it stands for.

// referenceHTML is the page markers' template as written with fmt and
// encoding/json before the fast path.
func referenceHTML(m pageMarkers) []byte {
	p := m.Params
	if p == nil && m.paramNames != nil {
		p = paramMap(m.paramNames, m.paramValues)
	}
	params, _ := json.Marshal(p)
	esc := html.EscapeString
	var b bytes.Buffer
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>%s</title></head>\n", esc(m.Title))
	fmt.Fprintf(&b, "<body data-route=\"%s\" data-params=\"%s\" data-astro-url-pathname=\"%s\" data-pathname=\"%s\" data-method=\"%s\">\n",
		esc(m.Route), esc(string(params)), esc(m.Pathname), esc(m.RawPath), esc(m.Method))
	fmt.Fprintf(&b, "<h1>%s</h1>\n", esc(m.Title))
	if m.Error != "" {
		fmt.Fprintf(&b, "<p data-error=\"%s\">%s</p>\n", esc(m.Error), esc(m.Error))
	}
	b.WriteString("</body></html>\n")
	return b.Bytes()
}

// awkward are strings the fast paths must not write verbatim, or must write
// as json.Marshal does: HTML and JSON specials, controls, non-ASCII, the
// separators json.Marshal escapes, invalid UTF-8.
var awkward = []string{
	"", "plain", "a b", `"`, `'`, "<script>", "a&b", `back\slash`, "tab\there", "nl\n", "\x00\x1f\x7f",
	"café", "日本", "\u2028\u2029", "\xff\xfe", "%2F", "a%20b", "{}", "[1]", "&#34;", "x:y,z",
}

func checkHTML(t *testing.T, m pageMarkers) {
	t.Helper()
	want := referenceHTML(m)
	if got := m.html(); !bytes.Equal(got, want) {
		t.Fatalf("html() of %+v:\n got %s\nwant %s", m, got, want)
	}
	var room [8]byte
	if got := m.appendHTML(room[:0]); !bytes.Equal(got, want) {
		t.Fatalf("appendHTML of %+v:\n got %s\nwant %s", m, got, want)
	}
	if got := m.appendHTML([]byte("prefix")); !bytes.Equal(got, append([]byte("prefix"), want...)) {
		t.Fatalf("appendHTML after a prefix of %+v:\n got %s", m, got)
	}
}

func TestPageHTMLMatchesTemplate(t *testing.T) {
	for _, s := range awkward {
		checkHTML(t, pageMarkers{Route: s, Params: map[string]string{}, Pathname: s, RawPath: s, Method: s, Title: s, Error: s})
		checkHTML(t, pageMarkers{Route: "/r", Params: map[string]string{s: s}, Title: "t"})
		checkHTML(t, pageMarkers{Route: "/r", Params: map[string]string{"k": s, "j": "v"}, Title: "t"})
		checkHTML(t, pageMarkers{Route: "/r", paramNames: []string{"slug", s}, paramValues: []string{s, "v"}})
	}
	many := map[string]string{}
	var names, values []string
	for i := range 12 {
		k, v := "p"+strconv.Itoa(11-i), "v"+strconv.Itoa(i)
		many[k] = v
		names, values = append(names, k), append(values, v)
	}
	for _, m := range []pageMarkers{
		{Route: "/", Title: "nil params"},
		{Route: "/", Params: map[string]string{}},
		{Route: "/", Params: many},
		{Route: "/", paramNames: names, paramValues: values},
		{Route: "/", paramNames: []string{"b", "a"}, paramValues: []string{"2", "1"}},
		// An empty value is left out, as paramMap leaves it out.
		{Route: "/", paramNames: []string{"lang", "path"}, paramValues: []string{"en", ""}},
		{Route: "/", paramNames: []string{"lang", "path"}, paramValues: []string{"en"}},
		{Route: "/", paramNames: []string{"only"}, paramValues: []string{""}},
		{Route: "/", Params: map[string]string{"a": "1"}, paramNames: []string{"b"}, paramValues: []string{"2"}},
	} {
		checkHTML(t, m)
	}
}

// FuzzPageHTML compares the page writer with the template on any markers.
func FuzzPageHTML(f *testing.F) {
	for _, s := range awkward {
		f.Add(s, s, s, s)
	}
	f.Add("/blog/[slug]", "slug", "hello-world", "/blog/hello-world")
	f.Fuzz(func(t *testing.T, route, name, value, path string) {
		checkHTML(t, pageMarkers{Route: route, Params: map[string]string{name: value, "x": path}, Pathname: path, RawPath: path, Method: name, Title: route, Error: value})
		checkHTML(t, pageMarkers{Route: route, paramNames: []string{name, "x"}, paramValues: []string{value, path}, Pathname: path, Title: value})
	})
}

func TestAppendHTMLEscapedMatchesEscapeString(t *testing.T) {
	var all strings.Builder
	for c := range 256 {
		all.WriteByte(byte(c))
	}
	for _, s := range append(awkward, all.String()) {
		if got, want := string(appendHTMLEscaped(nil, s)), html.EscapeString(s); got != want {
			t.Errorf("appendHTMLEscaped(%q) = %q, want %q", s, got, want)
		}
	}
}

// referenceURLPathname is urlPathname as written before the fast path: it
// always builds the encoded copy.
func referenceURLPathname(decoded string) string {
	p := strings.ReplaceAll(decoded, `\`, "/")
	p = removeDotSegments(p)
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c <= 0x20 || c >= 0x7F || strings.IndexByte("\"#<>?`{}", c) >= 0 {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return collapseSlashes(b.String())
}

func TestURLPathnameMatchesReference(t *testing.T) {
	paths := []string{"/", "/about", "/blog/hello world", "/café", `/a\b`, "/a//b", "/a/./b/../c", "/x?y#z", "/{}`<>\"", "/100%", "/%2F"}
	for c := range 256 {
		paths = append(paths, "/a"+string(rune(c))+"b", "/a"+string([]byte{byte(c)}))
	}
	for _, p := range paths {
		if got, want := urlPathname(p), referenceURLPathname(p); got != want {
			t.Errorf("urlPathname(%q) = %q, want %q", p, got, want)
		}
	}
}

// TestPlainPathNeedsNoSteps holds plainPath to what Match and Render skip
// for a plain path: each step must leave it as it is, and urlPathname must
// be encodePathname alone.
func TestPlainPathNeedsNoSteps(t *testing.T) {
	paths := []string{"/", "/about", "/a/b/", "/a//b", "//a", "/a/./b", "/a/../b", "/x.html", "/100%25", "/%2e%2e/a", "/%2F", `/a\b`, "/a b", "/café", "/{}"}
	for c := range 256 {
		paths = append(paths, "/a"+string([]byte{byte(c)})+"b", "/a/"+string([]byte{byte(c)}), "/"+string([]byte{byte(c), byte(c)}))
	}
	plain := 0
	for _, p := range paths {
		if !plainPath(p) {
			continue
		}
		plain++
		decoded, err := decodePathname(p)
		if got := removeDotSegments(p); got != p || decoded != p || err != nil || collapseSlashes(p) != p {
			t.Errorf("plain path %q: removeDotSegments %q, decodePathname %q %v, collapseSlashes %q", p, got, decoded, err, collapseSlashes(p))
		}
		if got, want := encodePathname(p), urlPathname(p); got != want {
			t.Errorf("plain path %q: encodePathname %q, urlPathname %q", p, got, want)
		}
	}
	if plain < 200 {
		t.Fatalf("only %d of %d paths are plain", plain, len(paths))
	}
}

func TestStatusLine(t *testing.T) {
	reference := func(code int, text string) string {
		if text == "" {
			text = http.StatusText(code)
		}
		s := strconv.Itoa(code)
		if text != "" {
			s += " " + text
		}
		return s
	}
	for code := -1; code < 1000; code++ {
		for _, text := range []string{"", http.StatusText(code), "OK", "Not Found", "Custom"} {
			if got, want := statusLine(code, text), reference(code, text); got != want {
				t.Fatalf("statusLine(%d, %q) = %q, want %q", code, text, got, want)
			}
		}
	}
}

// TestContextRoomTakenOnce: a context's room holds one result; a second page
// rendered in the same context (a page's null 404 rerouted to the 404 page)
// must get its own, or it would overwrite the first.
func TestContextRoomTakenOnce(t *testing.T) {
	c := &renderContext{r: httptest.NewRequest("GET", "/x", nil)}
	first := c.newPageResult(200, &pageMarkers{Route: "/first", Title: "first"})
	firstBody := bodyOf(t, first)
	second := c.newPageResult(404, &pageMarkers{Route: "/second", Title: "second"})
	if first == second {
		t.Fatal("the second result reused the context's room")
	}
	if got := bodyOf(t, first); !bytes.Equal(got, firstBody) {
		t.Fatalf("the first page changed to %s", got)
	}
	if got := bodyOf(t, second); !bytes.Contains(got, []byte(`data-route="/second"`)) {
		t.Fatalf("second page: %s", got)
	}
}

// bodyOf reads a bytes result's body without consuming it.
func bodyOf(t *testing.T, res *result) []byte {
	t.Helper()
	b, err := io.ReadAll(io.NewSectionReader(&res.bytesBody, 0, res.length))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestResultHeaderOwnsItsValues: the Content-Type value lives in the
// result's room; adding a value must not write past it.
func TestResultHeaderOwnsItsValues(t *testing.T) {
	res := bytesResult(200, "text/html", []byte("x"))
	res.header.Add("Content-Type", "text/plain")
	if got := res.header.Values("Content-Type"); len(got) != 2 || got[0] != "text/html" || res.contentType[0] != "text/html" {
		t.Fatalf("Content-Type = %q, room %q", got, res.contentType)
	}
}

// TestRenderContextSize: the context, with room for a page, stays within
// the 1024-byte allocation size class; growing past it made a render
// measurably slower (BenchmarkRenderRatio).
func TestRenderContextSize(t *testing.T) {
	if size := unsafe.Sizeof(renderContext{}); size > 1024 {
		t.Fatalf("renderContext is %d bytes; shrink its page room", size)
	}
}

// TestMatchForRenderAgreesWithLookup: the params Render keeps as lists are
// the map lookup (and so MatchParams) gives, on every fixture route and
// some paths that match nothing or need the ".html" rule.
func TestMatchForRenderAgreesWithLookup(t *testing.T) {
	m := &Manifest{Name: "fastpath", Routes: []*Route{
		{Pattern: "/", Type: RoutePage},
		{Pattern: "/about", Type: RoutePage},
		{Pattern: "/blog/[slug]", Type: RoutePage},
		{Pattern: "/[lang]/intro", Type: RoutePage},
		{Pattern: "/docs/[...path]", Type: RoutePage},
		{Pattern: "/shop/[cat]/[id]", Type: RoutePage},
		{Pattern: "/api/[id]", Type: RouteEndpoint, Handlers: map[string]*Action{"GET": {Kind: "echo"}}},
	}}
	a, err := New(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/", "/about", "/blog/hello", "/blog/hello.html", "/blog/.html", "/about/intro", "/docs", "/docs/a/b",
		"/shop/x/1", "/shop/x", "/api/7", "/api/7.html", "/nope", "/blog", "/docs/x.html"} {
		want := a.lookup(p)
		var captured [4]string
		route, params, names, values := a.matchForRender(p, captured[:0])
		if want == nil {
			if route != nil {
				t.Errorf("%s: matchForRender found %s, lookup nothing", p, route.Pattern)
			}
			continue
		}
		if params == nil {
			params = paramMap(names, values)
		}
		if route != want.Route || !maps.Equal(params, want.Params) {
			t.Errorf("%s: matchForRender %v %v, lookup %v %v", p, route, params, want.Route, want.Params)
		}
	}
	if len(noParams) != 0 {
		t.Fatalf("noParams was written: %v", noParams)
	}
}
