package suite

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/adapterconformance/adapter-conformance/runner"
)

// TestClientErrorsNameTheHost: a request that gets no response says where
// it went. The target travels in URL.Opaque, which the client's error
// would otherwise print without the host ("http:/api/throws").
func TestClientErrorsNameTheHost(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close() // no response at all
		}
	}))
	defer srv.Close()
	c := newClient(&runner.Host{URL: srv.URL}, runner.DefaultTimeouts().Request)
	defer c.close()
	for _, target := range []string{"/api/throws", "//evil.example/"} {
		ex := c.send(context.Background(), "GET", target, nil)
		if ex.err == nil {
			t.Fatalf("%s: a server that closes the connection gave no error", target)
		}
		if want := `"` + srv.URL + target + `"`; !strings.Contains(ex.err.Error(), want) {
			t.Errorf("%s: error %q does not name %s", target, ex.err, want)
		}
	}
}
