package suite

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner"
)

// TestClientSendsOrigin: on every method but GET and HEAD the client sends
// the origin of the host it talks to, as a browser does, and that is the
// origin the App computes for the request (Astro's origin check,
// astro-behavior §3); specs can replace or drop it.
func TestClientSendsOrigin(t *testing.T) {
	var mu sync.Mutex
	got, sameOrigin := map[string]string{}, map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got[r.Method+" "+r.URL.Path] = r.Header.Get("Origin")
		sameOrigin[r.Method+" "+r.URL.Path] = r.Header.Get("Origin") == app.RequestOrigin(r)
	}))
	defer srv.Close()
	c := newClient(&runner.Host{URL: srv.URL}, runner.DefaultTimeouts().Request)
	defer c.close()
	ctx := context.Background()
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PROPFIND"} {
		c.send(ctx, m, "/x", nil)
	}
	c.send(ctx, "POST", "/other", nil, withOrigin("https://evil.example"))
	c.send(ctx, "DELETE", "/none", nil, withoutOrigin())
	mu.Lock()
	defer mu.Unlock()
	for _, m := range []string{"GET", "HEAD"} {
		if o := got[m+" /x"]; o != "" {
			t.Errorf("%s carries Origin %q, want none", m, o)
		}
	}
	for _, m := range []string{"POST", "PUT", "DELETE", "OPTIONS", "PROPFIND"} {
		if o := got[m+" /x"]; o != srv.URL || !sameOrigin[m+" /x"] {
			t.Errorf("%s carries Origin %q, want %q, the App's origin for the request", m, o, srv.URL)
		}
	}
	if o := got["POST /other"]; o != "https://evil.example" {
		t.Errorf("withOrigin: Origin %q", o)
	}
	if o, ok := got["DELETE /none"]; !ok || o != "" {
		t.Errorf("withoutOrigin: Origin %q", o)
	}
	for in, want := range map[string]string{
		"http://127.0.0.1:8080":      "http://127.0.0.1:8080",
		"http://Example.COM:80/base": "http://example.com",
		"https://x.example:443":      "https://x.example",
		"https://x.example:8443/":    "https://x.example:8443",
		"http://[::1]:9000":          "http://[::1]:9000",
	} {
		if got := hostOrigin(in); got != want {
			t.Errorf("hostOrigin(%q) = %q, want %q", in, got, want)
		}
	}
}
