// Package suite is the conformance suite: ginkgo specs, one per requirement
// of SPEC.md, run against a runner.Target.
//
// Specs are registered inside Register, never at package init, so importing
// the kit adds nothing to a user's own ginkgo suite. Two ways in:
//
//	suite.Test(t, runner.InProcess("my-adapter", myadapter.Integration()))  // from a Go test
//	var _ = suite.Register(target)                                          // inside your own ginkgo suite
//
// Test runs a whole ginkgo suite of its own, so call it from a _test package
// that has no ginkgo specs of its own (its own test binary): ginkgo keeps one
// global suite per process, and Test refuses to run next to foreign specs
// rather than silently wiping them.
package suite

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/extensions/globals"
	"github.com/onsi/ginkgo/v2/formatter"
	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/fixtures"
	"github.com/adapterconformance/adapter-conformance/runner"
)

// Option configures a run.
type Option func(*options)

type options struct {
	fixtures     []string
	requirements []string
	labelFilter  string
	reportDir    string
	quiet        bool
	noColor      bool
	timeout      time.Duration
	results      *Results
	strict       bool
	baseline     string
	reportName   string
	seed         uint64
	seedSet      bool
	corpus       int
	shard        ShardSpec
	// activeFilter is the label filter the run's specs are selected by
	// when filterSet (Run sets both); under Register, ginkgo's own
	// -label-filter applies.
	activeFilter string
	filterSet    bool
	// absent records the host shapes left out at registration (absent.go).
	absent *absentHosts
}

// Fixtures picks the fixture apps, by name or directory path. The general
// specs run against the basic app (by name, or a directory it was exported
// to); every fixture, basic included, runs the specs its differences call
// for (a base path, no 404 page, ...). Without basic, only those run.
// Default: every built-in fixture, "basic" first.
func Fixtures(namesOrPaths ...string) Option {
	return func(o *options) { o.fixtures = append(o.fixtures, namesOrPaths...) }
}

// Focus runs only the specs of these requirement IDs.
func Focus(ids ...string) Option {
	return func(o *options) { o.requirements = append(o.requirements, ids...) }
}

// LabelFilter is a ginkgo label filter; every spec carries its requirement
// ID, its area ("area:http"), its level ("MUST") and its host shape ("shape:fetch").
func LabelFilter(expr string) Option { return func(o *options) { o.labelFilter = expr } }

// ReportDir makes the run write the CLI's reports there (report.json,
// junit.xml, report.html, summary.md: the same files, built the same way,
// as "adapter-conformance run --report-dir"), and ginkgo's own JSON and
// JUnit (ginkgo.json, ginkgo.junit.xml). Run claims (locks) the directory
// before any spec runs, Register while it writes. It needs package reports
// linked in (see Reporter).
func ReportDir(dir string) Option { return func(o *options) { o.reportDir = dir } }

// Baseline names a baseline file of known failures (the format of the
// CLI's --baseline, see reports.Baseline). Under Run and Test, a failure it
// lists is reported as known and does not fail the test, a failure it does
// not list does, and an entry whose requirement now passes is stale and
// fails the test. Under Register, ginkgo has already failed the specs: the
// baseline only marks the report files. It needs package reports linked in
// (see Reporter).
func Baseline(path string) Option { return func(o *options) { o.baseline = path } }

// ReportName is the target's name in the report files (default: the
// target's Name). The CLI's reports name the --target given, so a Go test
// that runs a target the CLI also runs can name it the same way and get the
// same report.
func ReportName(name string) Option { return func(o *options) { o.reportName = name } }

// Quiet silences ginkgo's console reporter (the results are still collected).
func Quiet() Option { return func(o *options) { o.quiet = true } }

// NoColor turns off the ANSI colours of ginkgo's progress output, for output
// that is not a terminal (a CI log, a file). NO_COLOR in the environment
// (https://no-color.org) does the same without the option.
func NoColor() Option { return func(o *options) { o.noColor = true } }

// Timeout bounds the whole run (default: the test's deadline less a margin, or 10 minutes).
func Timeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// Strict makes a failed SHOULD fail the run like a failed MUST. Without it
// (SPEC.md: "one that breaks a SHOULD gets a warning"), a failed SHOULD is
// reported, and logged by Test, but does not fail the Go test, and the
// report's verdict stays pass with a warning. Under Register, ginkgo has no
// warnings: every failed spec fails your suite; leave SHOULDs out with
// LabelFilter("!SHOULD") if you want them to warn only.
func Strict() Option { return func(o *options) { o.strict = true } }

// Seed sets the seed of the differential corpus (DIFF-1..5). Default:
// DefaultSeed, so that a CI run is reproducible; a failure names its seed.
func Seed(n uint64) Option { return func(o *options) { o.seed, o.seedSet = n, true } }

// Corpus sets the size of the differential corpus, in requests per fixture
// and host (default DefaultCorpus); a nightly run can ask for more.
func Corpus(n int) Option { return func(o *options) { o.corpus = n } }

// Shard runs part i (1-based) of n of the work, so that n CI jobs can
// share a run and "adapter-conformance report merge" can put their
// reports back together. The work is split by requirement, fixture and
// host shape: the specs of one requirement on one fixture and shape always
// go to the same shard, whatever the target, so the shards of one run
// together run every spec exactly once. Specs of other shards are not run;
// they are reported with the result "other-shard". Run refuses a shard
// that is not 1 <= i <= n.
func Shard(i, n int) Option { return func(o *options) { o.shard = ShardSpec{Index: i, Count: n} } }

// CollectInto makes Register record each spec's outcome in r.
func CollectInto(r *Results) Option { return func(o *options) { o.results = r } }

// selects reports whether the run's label filter (--focus, --label-filter)
// selects a spec with these labels.
func (o *options) selects(labels []string) bool {
	filter := o.activeFilter
	if !o.filterSet {
		sc, _ := ginkgo.GinkgoConfiguration()
		filter = sc.LabelFilter
	}
	if filter == "" {
		return true
	}
	match, err := types.ParseLabelFilter(filter)
	return err != nil || match(labels)
}

// selectsEverything reports whether the run selects every spec: no label
// filter or focus of the kit's (--focus, --label-filter, a shard) nor of
// ginkgo's own configuration.
func (o *options) selectsEverything() bool {
	sc, _ := ginkgo.GinkgoConfiguration()
	filter := sc.LabelFilter
	if o.filterSet {
		// Run's own filter, without the clause that leaves out the specs
		// of absent hosts (absent.go): those never need a start.
		filter = o.activeFilter
	}
	return buildLabelFilter(o) == "" && filter == "" && len(sc.FocusStrings) == 0 && len(sc.FocusFiles) == 0 &&
		len(sc.SkipStrings) == 0 && len(sc.SkipFiles) == 0
}

func requirementLabel(labels []string) string {
	for _, l := range labels {
		if idPattern.MatchString(l) {
			return l
		}
	}
	return ""
}

// Register adds the conformance specs for a target to the current ginkgo
// suite. Use it from inside your own ginkgo suite (at the top level of a
// _test file: var _ = suite.Register(target)). It must not be called while
// specs run. Unlike Run, it does not build the target first: the first
// fixture's start does, within its 2-minute limit. For a slower build,
// prepare the target in your own BeforeSuite with runner.Preparer. Register
// also adds a ReportAfterSuite that stops whatever adapter a run cut short
// (an interrupt, the suite timeout) left running, which is why it belongs at
// the top level; under ginkgo -p that node runs on process 1 only.
func Register(target runner.Target, opts ...Option) bool {
	o := &options{}
	for _, f := range opts {
		f(o)
	}
	if o.reportDir != "" && o.results == nil {
		o.results = &Results{}
	}
	if err := o.shard.check(); err != nil {
		panic("suite.Register: " + err.Error())
	}
	register(target, o)
	registerReports(target, o)
	return true
}

func register(target runner.Target, o *options) {
	names := o.fixtures
	if len(names) == 0 {
		names = fixtures.DefaultOrder()
	}
	if !o.seedSet {
		o.seed = DefaultSeed
	}
	if o.corpus <= 0 {
		o.corpus = DefaultCorpus
	}
	if o.results != nil {
		o.results.Seed = o.seed
	}
	// The waits the target runs with are the specs' too: the grace period
	// a Start gets, how long a request waits (runner.Timeouts).
	timeouts := runner.TimeoutsOf(target)
	live := &instances{stop: timeouts.Stop}
	o.absent = &absentHosts{reasons: map[string]string{}, mode: target.Mode()}
	serving := &servability{}
	registerRunEnd(live, o.results)
	ginkgo.Describe("adapter-conformance "+target.Name(), ginkgo.Label("adapter-conformance"), func() {
		collect(o)
		// The general specs are written for basic's routes: they run on the
		// first basic fixture only, never on a variant or an app of the
		// user's (chosen alone, those get their own specs and nothing else).
		envs := make([]*fixtureEnv, len(names))
		primary := -1
		for i, name := range names {
			m, err := fixtures.Resolve(name)
			envs[i] = &fixtureEnv{target: target, name: name, manifest: m, loadErr: err, results: o.results, live: live, serving: serving, seed: o.seed, corpus: o.corpus, shard: o.shard, timeouts: timeouts, absentHosts: o.absent}
			if primary < 0 && err == nil && fixtures.IsBasic(m) {
				primary = i
			}
		}
		if target.Mode() != runner.ModeInProcess && target.Mode() != runner.ModeURL && o.selectsEverything() {
			for i, fx := range envs {
				fx.others = slices.Delete(slices.Clone(envs), i, i+1)
			}
		}
		if primary >= 0 && runsApart(target, o) {
			envs[primary].apart = &apart{}
		}
		// The report's declaration comes from the primary fixture, or from
		// the first when none is basic.
		for i, fx := range envs {
			fx.primary = i == primary
			fx.recordsDeclaration = fx.primary || (i == 0 && primary < 0)
			registerFixture(fx)
		}
		if primary >= 0 && envs[primary].apart != nil {
			registerApart(envs[primary])
		}
	})
}

// failRecorder is a ginkgo.GinkgoTestingT that only remembers failure.
type failRecorder struct{ failed bool }

func (f *failRecorder) Fail() { f.failed = true }

var runMu sync.Mutex

// Run runs the suite against the target in a ginkgo suite of its own and
// returns the results. t receives Fail when any spec fails; it may be nil.
// Run resets ginkgo's global suite first, and refuses (with an error) when
// that suite already holds specs that are not the kit's. A target that is a
// runner.Preparer is built before any spec runs; when that fails Run
// returns the *executable.BuildError (runner/executable) and runs nothing.
func Run(t ginkgo.GinkgoTestingT, target runner.Target, opts ...Option) (*Results, error) {
	runMu.Lock()
	defer runMu.Unlock()
	o := &options{}
	for _, f := range opts {
		f(o)
	}
	if o.results == nil {
		o.results = &Results{}
	}
	if err := o.shard.check(); err != nil {
		return nil, err
	}
	if n := len(ginkgo.PreviewSpecs("adapter-conformance probe").SpecReports); n > 0 {
		return nil, fmt.Errorf("this test binary already has %d ginkgo specs of its own: running suite.Test here would wipe them; "+
			"call suite.Test from a _test package without other ginkgo specs, or use suite.Register inside your suite", n)
	}
	finishReports, err := startReports(target, o)
	if err != nil {
		return nil, err
	}
	reportsDone := false
	var notRun error
	defer func() {
		if !reportsDone && finishReports != nil {
			// The run ended before its specs (a failed build): the
			// reports say why, as the CLI's do, and the directory is
			// released.
			finishReports(nil, notRun)
		}
	}()
	globals.Reset()
	defer globals.Reset()
	gomega.RegisterFailHandler(ginkgo.Fail)
	register(target, o)

	sc, rc := ginkgo.GinkgoConfiguration()
	sc.LabelFilter = buildLabelFilter(o)
	o.activeFilter, o.filterSet = sc.LabelFilter, true
	// The specs of hosts the adapter lacks (absent.go) are left out of the
	// run, not out of what the user's filter selects. Always: which specs
	// carry the label is known only once ginkgo builds its tree, in
	// RunSpecs.
	o.absent.leftOut = true
	if sc.LabelFilter == "" {
		sc.LabelFilter = "!" + notApplicableLabel
	} else {
		sc.LabelFilter += " && !" + notApplicableLabel
	}
	sc.Timeout = o.timeout
	if sc.Timeout == 0 {
		sc.Timeout = 10 * time.Minute
	}
	if tt, ok := t.(*testing.T); ok {
		if dl, ok := tt.Deadline(); ok {
			// Leave time for cleanup: a go test timeout panics without running it.
			// A timeout of zero or less would mean none at all to ginkgo.
			sc.Timeout = min(sc.Timeout, max(time.Until(dl)-30*time.Second, time.Until(dl)/2, time.Second))
		}
	}
	if o.noColor || os.Getenv("NO_COLOR") != "" {
		rc.NoColor = true
	}
	if o.quiet {
		prev := formatter.ColorableStdOut
		formatter.ColorableStdOut = io.Discard
		defer func() { formatter.ColorableStdOut = prev }()
		rc.Succinct = true
	}
	if o.reportDir != "" {
		if err := os.MkdirAll(o.reportDir, 0o755); err != nil {
			return nil, fmt.Errorf("report dir: %w", err)
		}
		ginkgo.ReportAfterSuite("adapter-conformance reports", func(r types.Report) {
			base := filepath.Join(o.reportDir, "ginkgo")
			reporters.GenerateJSONReport(r, base+".json")
			reporters.GenerateJUnitReport(r, base+".junit.xml")
		})
	}
	if c, ok := target.(io.Closer); ok {
		defer c.Close()
	}
	if p, ok := target.(runner.Preparer); ok {
		// Built here, not in a fixture's BeforeAll, so that the build has
		// the run's whole time and a failed build is one error, not a start
		// failure per fixture. What it took comes out of the specs' time.
		began := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), sc.Timeout)
		err := p.Prepare(ctx)
		cancel()
		if err != nil {
			notRun = fmt.Errorf("preparing target %s: %w", target.Name(), err)
			return nil, notRun
		}
		sc.Timeout = max(sc.Timeout-time.Since(began), time.Second)
	}
	rec := &failRecorder{}
	ginkgo.RunSpecs(rec, "adapter-conformance: "+target.Name(), sc, rc)
	res := o.results
	if l, ok := t.(interface{ Logf(string, ...any) }); ok {
		for _, id := range res.Warnings() {
			msg := ""
			for _, m := range res.Messages(id) {
				msg = expectedLine(m)
				break
			}
			l.Logf("adapter-conformance: warning: SHOULD %s failed (not a failure without suite.Strict()): %s", id, msg)
		}
	}
	// A failed SHOULD warns only; anything else ginkgo saw fail (a MUST, a
	// spec with no requirement, a suite node, a cut-short run) fails t.
	res.mu.Lock()
	hard := res.hardFailures > 0 || res.softFailures == 0 || res.CutShort != ""
	unlabeled := res.unlabeledFailures > 0
	res.mu.Unlock()
	fail := rec.failed && hard
	if finishReports != nil {
		reportsDone = true
		gate, err := finishReports(res, nil)
		if err != nil {
			return res, fmt.Errorf("writing the reports: %w", err)
		}
		if o.baseline != "" {
			// The baseline decides: the report's verdict, plus what ginkgo
			// saw fail outside any requirement, and a cut-short run.
			fail = gate.Verdict == "fail" || (rec.failed && (unlabeled || res.CutShort != ""))
			if l, ok := t.(interface{ Logf(string, ...any) }); ok {
				if len(gate.Known) > 0 {
					l.Logf("adapter-conformance: known failures (baseline %s, not a failure): %s", o.baseline, strings.Join(gate.Known, ", "))
				}
				if len(gate.Failures) > 0 {
					l.Logf("adapter-conformance: failures not in baseline %s: %s", o.baseline, strings.Join(gate.Failures, ", "))
				}
				for _, s := range gate.Stale {
					l.Logf("adapter-conformance: %s", s)
				}
			}
		}
	}
	if fail && t != nil {
		t.Fail()
	}
	return res, nil
}

// Test runs the whole suite against the target from a Go test. Put it in a
// _test package of its own (see the package doc).
func Test(t *testing.T, target runner.Target, opts ...Option) *Results {
	t.Helper()
	res, err := Run(t, target, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// expectedLine is the line of a failure message that says what was
// expected, or its first line.
func expectedLine(msg string) string {
	for l := range strings.SplitSeq(msg, "\n") {
		if strings.HasPrefix(l, "expected: ") {
			return l
		}
	}
	first, _, _ := strings.Cut(msg, "\n")
	return first
}

func buildLabelFilter(o *options) string {
	var parts []string
	if o.labelFilter != "" {
		parts = append(parts, "("+o.labelFilter+")")
	}
	if len(o.requirements) > 0 {
		parts = append(parts, "("+strings.Join(o.requirements, " || ")+")")
	}
	if o.shard.Count > 0 {
		parts = append(parts, "!"+otherShardLabel)
	}
	return strings.Join(parts, " && ")
}

// shapesDriven are the host shapes whose specs this version of the suite has.
var shapesDriven = []app.HostShape{app.ShapeStart, app.ShapeHandler, app.ShapeFetch, app.ShapeLambdaV1, app.ShapeLambdaV2, app.ShapeFunctionURL}
