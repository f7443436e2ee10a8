package suite

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/adapterconformance/adapter-conformance/app"
)

// What a run found, spec by spec: the Results a caller collects
// (CollectInto), each spec's typed State, and how ginkgo's report of a
// spec becomes an Outcome.

// Outcome is what happened to one spec: the raw material of every report.
type Outcome struct {
	Requirement string
	Spec        string // the spec's full text
	Fixture     string // the fixture app, "" when the spec is not tied to one
	Shape       string // the host shape, "" for specs about the whole target
	State       State
	// Message is the failure message (requirement, expected, the exchange),
	// or the reason of a skip.
	Message string
	// Exchanges are the captured requests and responses, as text.
	Exchanges []string
	// Logs is what the adapter wrote, attached on failure when it runs out
	// of process.
	Logs     string
	Duration time.Duration
}

// Results collects spec outcomes. Safe for concurrent use.
type Results struct {
	mu       sync.Mutex
	Outcomes []Outcome
	// Declaration is what the target declared for the primary fixture (nil
	// when it declared nothing), DeclarationError why there is none.
	Declaration      *app.Adapter
	DeclarationError string
	// CutShort says why the run ended before every spec had run (an
	// interrupt, the run's timeout); "" when it ran to the end. The specs
	// it stopped or never reached are skipped, not failed.
	CutShort string
	// Strict: failed SHOULDs fail the run (the Strict option).
	Strict bool
	// Seed is the differential corpus's seed (the Seed option).
	Seed uint64
	// Shard is the part of the work this run did (the Shard option); the
	// zero ShardSpec when it did all of it.
	Shard ShardSpec
	// DiffRequests counts the differential corpus's requests sent, over
	// every fixture and host (DIFF-1..5; shrinking's requests not counted).
	DiffRequests int
	// softFailures counts failed specs that only warn (a SHOULD, not
	// strict), hardFailures every other failed spec: Run fails its test
	// only on a hard one.
	softFailures, hardFailures int
	// unlabeledFailures counts failed specs or nodes that belong to no
	// requirement: no baseline can accept them.
	unlabeledFailures int
}

// noteCutShort records why the run ended early, and gives the specs it
// never reached that reason.
func (r *Results) noteCutShort(why string) {
	if why == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.CutShort = why
	for i, o := range r.Outcomes {
		if o.State == Skipped && o.Message == "" {
			r.Outcomes[i].Message = "not run: " + why
		}
	}
}

func (r *Results) setDeclaration(a *app.Adapter, why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Declaration, r.DeclarationError = a, why
}

func (r *Results) addDiffRequests(n int) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.DiffRequests += n
}

func (r *Results) add(o Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Outcomes = append(r.Outcomes, o)
}

// Failed returns the sorted IDs of requirements with at least one failed spec.
func (r *Results) Failed() []string { return r.idsIn(Failed) }

// Blocking returns the sorted IDs of the failed requirements that fail the
// run: every failed MUST, and under Strict every failed SHOULD too.
func (r *Results) Blocking() []string {
	var out []string
	for _, id := range r.Failed() {
		if !r.warnsOnly(id) {
			out = append(out, id)
		}
	}
	return out
}

// Warnings returns the sorted IDs of the failed SHOULD requirements that
// only warn (none under Strict).
func (r *Results) Warnings() []string {
	var out []string
	for _, id := range r.Failed() {
		if r.warnsOnly(id) {
			out = append(out, id)
		}
	}
	return out
}

// warnsOnly: a failure of this requirement is a warning, not a failure.
func (r *Results) warnsOnly(id string) bool {
	req, ok := RequirementByID(id)
	return ok && req.Level == "SHOULD" && !r.Strict
}

// Passed returns the sorted IDs of requirements with at least one passed spec.
func (r *Results) Passed() []string { return r.idsIn(Passed) }

func (r *Results) idsIn(state State) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	set := map[string]bool{}
	for _, o := range r.Outcomes {
		if o.State == state {
			set[o.Requirement] = true
		}
	}
	ids := make([]string, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Messages returns the failure messages of a requirement.
func (r *Results) Messages(id string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, o := range r.Outcomes {
		if o.Requirement == id && o.State == Failed {
			out = append(out, o.Message)
		}
	}
	return out
}

// State is a spec's outcome, one type shared by the suite, the reports
// and the CLI, derived from ginkgo's typed report fields (the spec's
// state, its report entries), never from the text of a message.
type State string

// The states of a spec, besides OtherShard.
const (
	Passed State = "passed"
	Failed State = "failed"
	// Skipped: the spec could not be checked (its message says why: a
	// failed start, an earlier fault, a run cut short).
	Skipped State = "skipped"
	// NotApplicable: the requirement does not apply to this target (its
	// shape, its mode, what it declares), as opposed to "could not be
	// checked" (skipNotApplicable).
	NotApplicable State = "not-applicable"
)

// notApplicablePrefix starts the skip message of a spec that does not
// apply, for the person reading it; the state comes from the report entry
// skipNotApplicable adds, not from this text.
const notApplicablePrefix = "not applicable: "

// skipNotApplicable skips the current spec as not applicable to this
// target, saying why.
func skipNotApplicable(why string) {
	// The entry, named after the state, is what collect reads.
	ginkgo.AddReportEntry(string(NotApplicable), ginkgo.ReportEntryVisibilityNever)
	ginkgo.Skip(notApplicablePrefix + why)
}

// markedNotApplicable: the spec's report carries skipNotApplicable's entry.
func markedNotApplicable(sr types.SpecReport) bool {
	return slices.ContainsFunc(sr.ReportEntries, func(e types.ReportEntry) bool { return e.Name == string(NotApplicable) })
}

func collect(o *options) {
	if o.results == nil {
		return
	}
	res := o.results
	res.Strict = o.strict
	res.Shard = o.shard
	ginkgo.ReportAfterEach(func(sr types.SpecReport) {
		id := requirementLabel(sr.Labels())
		if id != "" && sr.State.Is(types.SpecStateSkipped) && !slices.Contains(sr.Labels(), otherShardLabel) && !o.selects(sr.Labels()) {
			// Left out by --focus or a label filter: no outcome, so the
			// requirement is "not-run" (its reason says why), not skipped.
			return
		}
		if sr.Failed() {
			res.mu.Lock()
			// A failure of the fixture's setup (its BeforeAll: an adapter
			// whose exports changed, absent.go) is the fixture's, not the
			// requirement's of the spec ginkgo files it under: never a
			// warning only.
			if sr.State.Is(types.SpecStateFailed) && id != "" && !cutShort(sr) && res.warnsOnly(id) && sr.Failure.FailureNodeType != types.NodeTypeBeforeAll {
				res.softFailures++
			} else {
				res.hardFailures++
			}
			res.mu.Unlock()
		}
		if id == "" {
			if sr.Failed() {
				res.mu.Lock()
				res.unlabeledFailures++
				res.mu.Unlock()
			}
			return
		}
		var state State
		msg := sr.Failure.Message
		switch {
		case sr.State.Is(types.SpecStateSkipped) && slices.Contains(sr.Labels(), otherShardLabel):
			state = OtherShard
			msg = "run by shard " + strconv.Itoa(o.shard.of(id, fixtureOf(sr), shapeOf(sr))) + "/" + strconv.Itoa(o.shard.Count) + ", not this one"
		case sr.State.Is(types.SpecStateSkipped) && slices.Contains(sr.Labels(), notApplicableLabel) && o.absent.leftOut && !markedNotApplicable(sr):
			state = NotApplicable
			msg = notApplicablePrefix + o.absent.notApplicable(id, fixtureOf(sr), shapeOf(sr))
		case sr.State.Is(types.SpecStatePassed):
			state = Passed
		case sr.State.Is(types.SpecStateSkipped):
			state = Skipped
			if markedNotApplicable(sr) {
				state = NotApplicable
			}
		case sr.State.Is(types.SpecStatePending):
			state = Skipped
		case cutShort(sr):
			state = Skipped
			cause, _, _ := strings.Cut(msg, "\n")
			msg = "not checked: the run was stopped while this spec ran (" + cause + ")"
		default:
			state = Failed
		}
		o := Outcome{Requirement: id, Spec: sr.FullText(), State: state, Message: msg, Duration: sr.RunTime,
			Fixture: fixtureOf(sr), Shape: shapeOf(sr)}
		for _, e := range sr.ReportEntries {
			switch e.Name {
			case "exchange":
				o.Exchanges = append(o.Exchanges, e.StringRepresentation())
			case "adapter-logs":
				o.Logs = e.StringRepresentation()
			}
		}
		res.add(o)
	})
}

// shapeOf is the host shape a spec ran on ("" for the whole target).
func shapeOf(sr types.SpecReport) string {
	for _, l := range sr.Labels() {
		if v, ok := strings.CutPrefix(l, "shape:"); ok {
			return v
		}
	}
	return ""
}

// fixtureOf is the fixture app a spec ran on.
func fixtureOf(sr types.SpecReport) string {
	f := ""
	for _, t := range sr.ContainerHierarchyTexts {
		if v, ok := strings.CutPrefix(t, "fixture "); ok {
			f = v
		}
	}
	return f
}
