package app

import (
	"net"
	"net/http"
	"strings"
)

// formContentTypes are the content types a browser can send cross-site
// without a CORS preflight, which Astro's origin check refuses
// (astro-behavior.md 3: text/plain counts).
var formContentTypes = []string{"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}

// checkOrigin is Astro's origin check (`security.checkOrigin`, on by
// default in Astro 7; astro-behavior.md 3). It applies to every route,
// pages and endpoints alike, and to an unmatched path whose 404 page is
// rendered, for every method but GET, HEAD and OPTIONS:
//   - with a content type, a form-like one (urlencoded, multipart or
//     text/plain, compared case-insensitively as a substring) is refused
//     unless Origin is exactly the request URL's origin; any other content
//     type (JSON) passes, even cross-site;
//   - with no content type at all, the request is refused unless Origin is
//     exactly the request URL's origin (DELETE with no body, PROPFIND).
//
// A refused request gets 403 with `Cross-site <METHOD> form submissions are
// forbidden` as text/plain;charset=UTF-8. The check returns nil when the
// request may go on. Public files never reach it: the adapter serves them.
func (a *App) checkOrigin(r *http.Request) *result {
	if !a.manifest.ChecksOrigin() {
		return nil
	}
	switch r.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions:
		// An empty method is GET, as net/http reads it.
		return nil
	}
	// Headers.get joins repeated lines with ", ": two Origin lines never
	// equal one origin.
	sameOrigin := strings.Join(r.Header.Values("Origin"), ", ") == RequestOrigin(r)
	if cts := r.Header.Values("Content-Type"); len(cts) > 0 {
		if sameOrigin || !formLike(strings.Join(cts, ", ")) {
			return nil
		}
	} else if sameOrigin {
		return nil
	}
	return bytesResult(http.StatusForbidden, "text/plain;charset=UTF-8", []byte("Cross-site "+r.Method+" form submissions are forbidden"))
}

func formLike(contentType string) bool {
	ct := strings.ToLower(contentType)
	for _, f := range formContentTypes {
		if strings.Contains(ct, f) {
			return true
		}
	}
	return false
}

// RequestOrigin is the origin of the request URL the App builds (see
// RequestURL), serialized as a WHATWG URL's origin is: scheme, lowercase
// host and the port, which is left out when it is the scheme's default. It
// is what a browser sends as Origin for a same-origin form submission, and
// what Astro's origin check compares Origin with.
func RequestOrigin(r *http.Request) string {
	scheme, host := requestSchemeHost(r)
	host = strings.ToLower(host)
	if h, port, err := net.SplitHostPort(host); err == nil {
		if strings.Contains(h, ":") {
			h = "[" + h + "]"
		}
		if port == "" || scheme == "http" && port == "80" || scheme == "https" && port == "443" {
			host = h
		}
	}
	return scheme + "://" + host
}
