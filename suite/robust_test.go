package suite_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

// closesAfterFirst serves a deployment that ends every connection after its
// first response, as a server that cannot skip an unread body might: a
// pipelined request behind a POST gets no answer at all.
func closesAfterFirst(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		w.Write([]byte("ok"))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return "http://" + ln.Addr().String()
}

// TestPipelineClosedAfterFirstResponse: a server that closes the connection
// after the first of two pipelined responses fails ROBUST-5 with a message
// that says so; the spec must not panic on the missing second response.
func TestPipelineClosedAfterFirstResponse(t *testing.T) {
	target, err := runner.URL(closesAfterFirst(t))
	if err != nil {
		t.Fatal(err)
	}
	res, err := suite.Run(nil, target, suite.Quiet(), suite.Fixtures("basic"), suite.Focus("ROBUST-5"))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Failed(); len(got) != 1 || got[0] != "ROBUST-5" {
		t.Fatalf("failed %q, want [ROBUST-5]", got)
	}
	msgs := res.Messages("ROBUST-5")
	want := "got 1 (HTTP/1.1 405 Method Not Allowed), then the server "
	if len(msgs) != 1 || !strings.Contains(msgs[0], want) || !strings.Contains(msgs[0], "the connection") {
		t.Errorf("ROBUST-5 message %q, want one that says %q", msgs, want)
	}
	for _, o := range res.Outcomes {
		if strings.Contains(strings.ToLower(o.Message), "panic") {
			t.Errorf("%s: %s", o.Requirement, o.Message)
		}
	}
}
