package suite

import (
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner"
)

// notApplicableLabel marks, at registration, a spec that can only say
// "not applicable": its requirement does not apply to its host shape or
// to the target's mode (inapplicable), or it is a host spec of a shape
// the adapter does not have, when the target could list its hosts before
// the run (runner.HostLister: in-process targets). Run's label filter
// leaves them out and the results give each the reason a run of it would
// have given, so that such a spec costs neither a start of its host's
// checks nor ginkgo's skip, which takes a stack trace each time (issue 19
// item 6: most of an adapter's specs are on shapes it does not have).
//
// Left out by a label filter, not skipped by a BeforeAll: ginkgo runs an
// ordered container's run-once cleanup after the last spec it attempts,
// and a spec the filter leaves out is not one, whereas a spec a BeforeAll
// skips is; so the fixture's instance is still stopped after its own last
// spec. Under Register the user's filter applies: the specs run, and each
// says why it does not apply, with the same reason.
const notApplicableLabel = "not-applicable"

// absentHosts is the run's record of the host shapes left out so.
type absentHosts struct {
	// reasons says why, by fixture and shape (absentKey).
	reasons map[string]string
	// leftOut: the run's filter leaves those specs out (Run sets it).
	leftOut bool
	// mode is the target's.
	mode runner.Mode
}

// notApplicable is the reason a spec left out (notApplicableLabel) is not
// applicable: the one it would have given had it run, its requirement's
// own (the shape or the mode) before the absent host's, as spec checks
// them.
func (a *absentHosts) notApplicable(id, fixture, shape string) string {
	if req, ok := RequirementByID(id); ok {
		if why := inapplicable(req, app.HostShape(shape), a.mode); why != "" {
			return why
		}
	}
	return a.reason(fixture, shape)
}

func absentKey(fixture, shape string) string { return fixture + "\x00" + shape }

// reason is why the fixture's adapter has no host of the shape, as
// recorded at registration, or "".
func (a *absentHosts) reason(fixture, shape string) string {
	if a == nil {
		return ""
	}
	return a.reasons[absentKey(fixture, shape)]
}

// noteAbsent records, from a complete list of the hosts a start will give
// the fixture, the driven shapes it lacks: spec labels their specs
// (notApplicableLabel). Every spec on a host shape finds an absent host
// not applicable when it runs (hostEnv.it, itRuntime), so leaving them
// out changes no outcome.
func (fx *fixtureEnv) noteAbsent(hosts []runner.HostKey) {
	for _, shape := range shapesDriven {
		if !slices.ContainsFunc(hosts, func(k runner.HostKey) bool { return k.Shape == shape }) {
			fx.absentHosts.reasons[absentKey(fx.name, string(shape))] = noHostReason(shape, hostsPhrase(hosts))
		}
	}
}

// checkAbsentStillAbsent fails the fixture when its start gave a host of a
// shape the target listed as absent before the run, whose specs the run
// therefore left out: the adapter's CreateExports gave different exports
// for the same manifest, and the kit cannot say which is true.
func (fx *fixtureEnv) checkAbsentStillAbsent() {
	if fx.inst == nil || fx.absentHosts == nil || !fx.absentHosts.leftOut {
		return
	}
	for _, shape := range shapesDriven {
		if fx.absentHosts.reason(fx.name, string(shape)) != "" && fx.inst.Host(shape) != nil {
			ginkgo.Fail("fixture " + fx.name + ": the adapter has a " + string(shape) + " host now that it is started, but listed none before the run " +
				"(CreateExports gave other exports for the same manifest), so that host's specs were left out: " +
				"an adapter must create the same exports for the same manifest")
		}
	}
}

// noHostReason says that the adapter has no host of a shape, and which it
// has (hostsPhrase), the same whether the list came before the run or from
// the started instance.
func noHostReason(shape app.HostShape, has string) string {
	return "the adapter has no " + string(shape) + " host (" + has + ")"
}

// hostsPhrase names an adapter's hosts: "it has handler via handler, start via start".
func hostsPhrase(hosts []runner.HostKey) string {
	if len(hosts) == 0 {
		return "it has no drivable export and no Start"
	}
	names := make([]string, len(hosts))
	for i, k := range hosts {
		names[i] = string(k.Shape) + " via " + k.Export
	}
	return "it has " + strings.Join(names, ", ")
}
