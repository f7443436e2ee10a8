package suite_test

import (
	"strings"
	"testing"

	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/handler"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

// TestOutcomeStatesAreTyped: a requirement that does not apply to the
// target (START-6 is for processes and containers; this is a handler run
// in process) is NotApplicable, one that passes is Passed, each read
// from ginkgo's typed report, and the message still says why for a
// person.
func TestOutcomeStatesAreTyped(t *testing.T) {
	res, err := suite.Run(nil, runner.InProcess(handler.Name, handler.Integration()), suite.Quiet(),
		suite.Fixtures("basic"), suite.Focus("START-6", "RENDER-1"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]map[suite.State]bool{}
	for _, o := range res.Outcomes {
		if seen[o.Requirement] == nil {
			seen[o.Requirement] = map[suite.State]bool{}
		}
		seen[o.Requirement][o.State] = true
		if o.State == suite.NotApplicable && !strings.HasPrefix(o.Message, "not applicable: ") {
			t.Errorf("%s is not applicable with the message %q, which does not say so", o.Requirement, o.Message)
		}
		// Each not-applicable spec says why: its own reason when it has
		// one (START-6 is not for in-process runs), else the host the
		// adapter does not have.
		switch {
		case o.Requirement == "START-6" && !strings.Contains(o.Message, "START-6 does not apply in inprocess mode"):
			t.Errorf("START-6 on the %s host: message %q, want its own reason (not in process)", o.Shape, o.Message)
		case o.Requirement == "RENDER-1" && o.Shape != "handler" &&
			(o.State != suite.NotApplicable || !strings.Contains(o.Message, "the adapter has no "+o.Shape+" host")):
			t.Errorf("RENDER-1 on the absent %s host: %s %q, want %s saying the adapter has no %s host", o.Shape, o.State, o.Message, suite.NotApplicable, o.Shape)
		}
	}
	// START-6 on the start host, which a handler adapter does not have, and
	// not for in-process runs; RENDER-1 passes on the handler host and
	// does not apply to the shapes this adapter has no host of.
	if len(seen["START-6"]) != 1 || !seen["START-6"][suite.NotApplicable] || !seen["RENDER-1"][suite.Passed] {
		t.Errorf("states %v: want START-6 only %s and RENDER-1 %s on its host", seen, suite.NotApplicable, suite.Passed)
	}
}
