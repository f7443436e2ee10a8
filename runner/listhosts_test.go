package runner_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"testing"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/fixtures"
	"github.com/adapterconformance/adapter-conformance/runner"
)

// TestListHostsNamesWhatStartGives: an in-process target lists, before it
// is started, the hosts its start gives (the suite leaves out the specs of
// the others), and says when it cannot be sure.
func TestListHostsNamesWhatStartGives(t *testing.T) {
	m, err := fixtures.Load("basic")
	if err != nil {
		t.Fatal(err)
	}
	handler := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	start := func(ctx context.Context, _ *app.Manifest, ln net.Listener) error {
		srv := &http.Server{Handler: handler}
		go func() { <-ctx.Done(); srv.Close() }()
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
	integration := func(ep *app.ServerEntrypoint) app.Integration {
		return app.Integration{Name: "x", Hooks: app.Hooks{ConfigDone: func(p app.ConfigDoneParams) error {
			if ep != nil {
				p.SetAdapter(app.Adapter{Name: "x", Shapes: []app.HostShape{app.ShapeHandler, app.ShapeStart}, ServerEntrypoint: ep})
			}
			return nil
		}}}
	}
	for _, c := range []struct {
		name string
		ep   *app.ServerEntrypoint
		want []runner.HostKey
		ok   bool
	}{
		{"export and Start", &app.ServerEntrypoint{
			CreateExports: func(*app.Manifest) (map[string]any, error) {
				return map[string]any{"handler": handler, "notAHost": 42}, nil
			},
			Start: start,
		}, []runner.HostKey{{Shape: app.ShapeHandler, Export: "handler"}, {Shape: app.ShapeStart, Export: "start"}}, true},
		{"Start only", &app.ServerEntrypoint{Start: start}, []runner.HostKey{{Shape: app.ShapeStart, Export: "start"}}, true},
		{"CreateExports fails", &app.ServerEntrypoint{
			CreateExports: func(*app.Manifest) (map[string]any, error) { return nil, errors.New("no") },
		}, nil, false},
		{"CreateExports panics", &app.ServerEntrypoint{
			CreateExports: func(*app.Manifest) (map[string]any, error) { panic("no") },
		}, nil, false},
		{"no entrypoint", nil, nil, false},
	} {
		target := runner.InProcess("x", integration(c.ep))
		got, ok := target.(runner.HostLister).ListHosts(m)
		if ok != c.ok || (c.ok && !slices.Equal(got, c.want)) {
			t.Errorf("%s: ListHosts = %v, %v; want %v, %v", c.name, got, ok, c.want, c.ok)
		}
		if !c.ok {
			continue
		}
		// What Start gives is what was listed.
		inst, err := target.Start(context.Background(), m)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var started []runner.HostKey
		for _, h := range inst.Hosts {
			started = append(started, runner.HostKey{Shape: h.Shape, Export: h.Export})
		}
		inst.Stop(context.Background())
		if !slices.Equal(started, c.want) {
			t.Errorf("%s: Start gave the hosts %v, ListHosts listed %v", c.name, started, c.want)
		}
	}
}
