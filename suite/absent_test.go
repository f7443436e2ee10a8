package suite_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/handler"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

// TestAbsentHostSpecsAreLeftOut: the specs of the host shapes an
// in-process adapter does not have are left out of the run (ginkgo never
// runs them: they take no time), and each still comes out not
// applicable with the reason a run of it would have given.
func TestAbsentHostSpecsAreLeftOut(t *testing.T) {
	res, err := suite.Run(nil, runner.InProcess(handler.Name, handler.Integration()), suite.Quiet(),
		suite.Fixtures("basic"), suite.Focus("RENDER-1", "START-6"))
	if err != nil {
		t.Fatal(err)
	}
	byShape := map[string]suite.Outcome{}
	for _, o := range res.Outcomes {
		if o.Requirement == "RENDER-1" {
			byShape[o.Shape] = o
		}
	}
	for _, shape := range []string{"start", "fetch", "lambda-v1", "lambda-v2", "function-url"} {
		o := byShape[shape]
		if want := "not applicable: the adapter has no " + shape + " host (it has handler via handler)"; o.State != suite.NotApplicable || o.Message != want {
			t.Errorf("RENDER-1 on %s: %s %q, want %s %q", shape, o.State, o.Message, suite.NotApplicable, want)
		}
	}
	if o := byShape["handler"]; o.State != suite.Passed {
		t.Errorf("RENDER-1 on handler: %s %q", o.State, o.Message)
	}
	// A spec ginkgo runs takes time, even to skip itself; one the filter
	// leaves out takes none.
	ran, leftOut := 0, 0
	for _, o := range res.Outcomes {
		absent := o.Shape != "handler"
		switch {
		case absent && o.Duration != 0:
			t.Errorf("%s on the absent %s host ran: %s %q after %s", o.Requirement, o.Shape, o.State, o.Message, o.Duration)
		case absent:
			leftOut++
		default:
			ran++
		}
	}
	if ran != 1 || leftOut != 6 {
		t.Errorf("%d specs ran and %d were left out, want 1 (RENDER-1 on handler) and 6", ran, leftOut)
	}
	// START-6 keeps its own reason, which a run of it gives first.
	for _, o := range res.Outcomes {
		if o.Requirement == "START-6" && !strings.Contains(o.Message, "START-6 does not apply in inprocess mode") {
			t.Errorf("START-6: %q, want its own reason", o.Message)
		}
	}
}

// TestExportsThatChangeFailTheFixture: an adapter whose CreateExports
// gives a host shape when started that it did not give when the kit listed
// its hosts before the run (whose specs were therefore left out) fails
// the fixture with a message that says so, rather than passing unchecked.
func TestExportsThatChangeFailTheFixture(t *testing.T) {
	var calls atomic.Int64
	serve := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	integration := app.Integration{Name: "shifty", Hooks: app.Hooks{ConfigDone: func(p app.ConfigDoneParams) error {
		p.SetAdapter(app.Adapter{Name: "shifty", Shapes: []app.HostShape{app.ShapeHandler, app.ShapeFetch},
			ServerEntrypoint: &app.ServerEntrypoint{CreateExports: func(*app.Manifest) (map[string]any, error) {
				exports := map[string]any{"handler": serve}
				if calls.Add(1) > 1 {
					exports["fetch"] = func(*http.Request) (*http.Response, error) { return nil, http.ErrHandlerTimeout }
				}
				return exports, nil
			}}})
		return nil
	}}}
	// Focused on a SHOULD: the fixture's failure, filed under it, still
	// fails the run.
	ft := &recordingT{}
	res, err := suite.Run(ft, runner.InProcess("shifty", integration), suite.Quiet(), suite.Fixtures("basic"), suite.Focus("HTTP-19"))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, o := range res.Outcomes {
		found = found || (o.State == suite.Failed && strings.Contains(o.Message, "has a fetch host now that it is started, but listed none before the run"))
	}
	if !found || !ft.failed {
		t.Errorf("the run failed %v, and no failure says the adapter's exports changed; failed: %v", ft.failed, res.Failed())
	}
}
