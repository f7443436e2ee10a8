package runner_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/fixtures"
	"github.com/adapterconformance/adapter-conformance/runner"
)

// redirectLoop answers every request with a redirect to itself.
var redirectLoop = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, r.URL.Path, http.StatusFound)
})

// TestReadinessTakesAnyStatus: START-2 asks for an HTTP answer "with any
// status", so a server that answers / with a redirect loop is ready at once;
// a probe that follows redirects would never see an answer and would call
// it not ready after the whole readiness timeout.
func TestReadinessTakesAnyStatus(t *testing.T) {
	m, err := fixtures.Load("basic")
	if err != nil {
		t.Fatal(err)
	}
	integration := app.Integration{Name: "redirect-loop", Hooks: app.Hooks{ConfigDone: func(p app.ConfigDoneParams) error {
		p.SetAdapter(app.Adapter{Name: "redirect-loop", Shapes: []app.HostShape{app.ShapeStart}, ServerEntrypoint: &app.ServerEntrypoint{
			Start: func(ctx context.Context, _ *app.Manifest, ln net.Listener) error {
				srv := &http.Server{Handler: redirectLoop}
				go func() { <-ctx.Done(); srv.Shutdown(context.Background()) }()
				if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
					return err
				}
				return nil
			},
		}})
		return nil
	}}}
	began := time.Now()
	inst, err := runner.InProcess("redirect-loop", integration, runner.WithReadinessTimeout(3*time.Second)).Start(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Stop(context.Background())
	h := inst.Host(app.ShapeStart)
	if h == nil {
		t.Fatal("no start host")
	}
	if h.StartError != nil {
		t.Fatalf("a server answering / with a redirect loop was not ready: %v", h.StartError)
	}
	if d := time.Since(began); d > 2*time.Second {
		t.Errorf("readiness took %s", d)
	}

	// The URL target's probe is the same.
	srv := httptest.NewServer(redirectLoop)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := runner.Probe(ctx, srv.URL); err != nil {
		t.Errorf("a deployment answering / with a redirect loop does not answer: %v", err)
	}
}
