package suite_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/broken"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

// expected is a broken adapter's name, bug and expected failures, whether
// it is an in-process adapter (broken.All) or a process-level bug of the
// broken-adapter binary (broken.Processes).
type expected struct {
	Name, Bug string
	Fails     broken.Expect
}

// brokenExpectations lists every broken adapter with its expected failures,
// from the registry: the tests of each mode run the adapters whose set for
// that mode is not nil, and assert exactly that set.
func brokenExpectations() []expected {
	var all []expected
	for _, b := range broken.All() {
		all = append(all, expected{b.Name, b.Bug, b.Fails})
	}
	for _, p := range broken.Processes() {
		all = append(all, expected{p.Name, p.Bug, p.Fails})
	}
	return all
}

// brokenInProcessNames are the broken adapters run in process: all of
// them, in the registry's order.
func brokenInProcessNames() []string {
	var names []string
	for _, b := range broken.All() {
		names = append(names, b.Name)
	}
	return names
}

// brokenNamesIn is the sorted names of the broken adapters, in-process ones
// and processes, whose expectations in one mode (sel) are set: those run in
// that mode.
func brokenNamesIn(sel func(broken.Expect) []string) func() []string {
	return func() []string {
		var names []string
		for _, b := range brokenExpectations() {
			if sel(b.Fails) != nil {
				names = append(names, b.Name)
			}
		}
		return slices.Sorted(slices.Values(names))
	}
}

// why is the registry's reason for an expected set, for a failure message.
func why(f broken.Expect) string {
	if f.Why == "" {
		return ""
	}
	return "\nwhy: " + f.Why
}

// TestBrokenExpectationsNameRequirements: every ID a broken adapter expects
// to fail in a mode is a checked requirement of SPEC.md that applies to that
// mode, so that a typo or a requirement's change of modes shows here, at
// once, rather than as a mismatch in the slow run of that mode.
func TestBrokenExpectationsNameRequirements(t *testing.T) {
	for _, b := range brokenExpectations() {
		for _, m := range []struct {
			mode runner.Mode
			ids  []string
		}{{runner.ModeInProcess, b.Fails.InProcess}, {runner.ModeBinary, b.Fails.Binary}, {runner.ModeContainer, b.Fails.Container}} {
			for _, id := range m.ids {
				r, ok := suite.RequirementByID(id)
				switch {
				case !ok:
					t.Errorf("%s expects to fail %s in %s mode, which SPEC.md does not have", b.Name, id, m.mode)
				case !r.Checked():
					t.Errorf("%s expects to fail %s in %s mode, which SPEC.md marks %q", b.Name, id, m.mode, r.Status)
				case !r.AppliesToMode(string(m.mode)):
					t.Errorf("%s expects to fail %s in %s mode, which does not apply in that mode (%v)", b.Name, id, m.mode, r.Modes)
				}
			}
		}
	}
}

// notShownFailingInProcess are the in-process MUSTs no in-process broken
// adapter can make fail, with why. Everything else must be in some
// adapter's Fails.InProcess.
var notShownFailingInProcess = map[string]string{
	"ROBUST-1": "Go's net/http server answers a malformed percent-escape with 400 before any handler sees the request, so no adapter built on it (all of the kit's, in every mode) can fail it; it exists for adapters on other servers, reached as binary, container or URL targets",
}

func TestBrokenAdaptersFailExactlyTheirRequirements(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole suite once per broken adapter")
	}
	byName := map[string]broken.Adapter{}
	for _, b := range broken.All() {
		byName[b.Name] = b
	}
	eachInChild(t, func(t *testing.T, name string) {
		b := byName[name]
		want := b.Fails.InProcess
		if want == nil {
			t.Fatalf("broken adapter %s (%s) has no Fails.InProcess", b.Name, b.Bug)
		}
		res, err := suite.Run(nil, runner.InProcess(b.Name, b.Integration, runner.WithReadinessTimeout(time.Second)), suite.Quiet())
		if err != nil {
			t.Fatal(err)
		}
		got := res.Failed()
		// Every failure is filed under its spec's requirement, and its
		// message says which: the checks take it from the spec.
		for _, id := range got {
			for _, msg := range res.Messages(id) {
				if !strings.HasPrefix(suite.WithoutAsyncPreamble(msg), id+" (") {
					t.Errorf("%s (%s): a failure of %s whose message does not start with %q:\n%s", b.Name, b.Bug, id, id+" (", msg)
				}
			}
		}
		want = slices.Sorted(slices.Values(want))
		if !slices.Equal(got, want) {
			t.Errorf("%s (%s)\nfailed %q\nwant   %q%s", b.Name, b.Bug, got, want, why(b.Fails))
			for _, id := range got {
				if !slices.Contains(want, id) {
					for _, msg := range res.Messages(id) {
						t.Logf("unexpected failure of %s:\n%s", id, msg)
					}
				}
			}
		}
	})
	if n := len(broken.All()); n < 20 {
		t.Errorf("%d broken adapters; the suite promises at least 20", n)
	}
}

// TestEveryInProcessMustIsShownFailing: a requirement that no broken adapter
// can make fail has not shown that it can fail.
func TestEveryInProcessMustIsShownFailing(t *testing.T) {
	expectMustsShownFailing(t, "applies in-process", notShownFailingInProcess,
		func(r suite.Requirement) bool { return r.AppliesToMode(string(runner.ModeInProcess)) },
		func(f broken.Expect) []string { return f.InProcess })
}

// notShownFailingOutOfProcess are the MUSTs that apply only out of process
// (binary or container mode, not in-process) that no broken adapter run as
// a binary or in a container can make fail, with why.
var notShownFailingOutOfProcess = map[string]string{
	"LAMBDA-14": "a runtime that answers an invocation twice, never, or stops polling is not an adapter the registry's binary can be: it is aws-lambda-go's loop, which does each right; TestLambdaRuntimeFailuresAreClear shows LAMBDA-14 failing with hand-written runtimes that never ask for an invocation or exit after each one",
}

// TestEveryOutOfProcessMustIsShownFailing is TestEveryInProcessMustIsShownFailing
// for the requirements only a process or a container can break (issue 17
// item 5): each is in some broken adapter's Fails.Binary or
// Fails.Container, or carries its written exemption.
func TestEveryOutOfProcessMustIsShownFailing(t *testing.T) {
	expectMustsShownFailing(t, "applies only out of process", notShownFailingOutOfProcess,
		func(r suite.Requirement) bool {
			return !r.AppliesToMode(string(runner.ModeInProcess)) &&
				(r.AppliesToMode(string(runner.ModeBinary)) || r.AppliesToMode(string(runner.ModeContainer)))
		},
		func(f broken.Expect) []string { return slices.Concat(f.Binary, f.Container) })
}

// expectMustsShownFailing fails for each checked MUST that applies (where
// says how) and is in no broken adapter's failing IDs (shownBy picks them
// from its expectations) without a written exemption, and for each exempt
// one a broken adapter does fail.
func expectMustsShownFailing(t *testing.T, where string, exemptions map[string]string,
	applies func(suite.Requirement) bool, shownBy func(broken.Expect) []string) {
	t.Helper()
	reqs, err := suite.Requirements()
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]bool{}
	for _, b := range brokenExpectations() {
		for _, id := range shownBy(b.Fails) {
			shown[id] = true
		}
	}
	n := 0
	for _, r := range reqs {
		if r.Level != "MUST" || !r.Checked() || !applies(r) {
			continue
		}
		n++
		why, exempt := exemptions[r.ID]
		switch {
		case !shown[r.ID] && !exempt:
			t.Errorf("%s %s but no broken adapter fails it", r.ID, where)
		case shown[r.ID] && exempt:
			t.Errorf("%s is exempt (%s) but a broken adapter fails it: drop the exemption", r.ID, why)
		}
	}
	if n == 0 {
		t.Errorf("no MUST %s: the guard checks nothing", where)
	}
}
