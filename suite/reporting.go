package suite

import (
	"errors"
	"fmt"
	"sync"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/adapterconformance/adapter-conformance/fixtures"
	"github.com/adapterconformance/adapter-conformance/runner"
)

// ReportRequest says what reports a run wants.
type ReportRequest struct {
	Dir        string // write the report files here; "" for none
	Baseline   string // a baseline file of known failures; "" for none
	TargetName string
	Mode       string
	Fixtures   []string
	// Shard is the part of the work the run does (the Shard option).
	Shard ShardSpec
}

// Gate is what the reports made of a run: its verdict (pass, fail or
// inconclusive), after the baseline when there is one, and why.
type Gate struct {
	Verdict string
	// Failures are the IDs of the failed requirements that fail the
	// verdict; Known those the baseline accepts; Stale says which
	// baseline entries now pass (each fails the verdict).
	Failures, Known, Stale []string
}

// Reporter writes a run's report files (report.json, junit.xml,
// report.html, summary.md) and gives its Gate. The files are built by
// package reports, which imports suite (reports.New reads
// *Results and SPEC.md's requirements through it). So that dependencies
// keep pointing one way, suite does not import reports: reports installs
// itself here, from its init, as the Reporter. ReportDir and Baseline
// therefore need reports linked into the test binary:
//
//	import _ "github.com/adapterconformance/adapter-conformance/reports"
//
// and a run asked for either without it fails at once, naming that import,
// rather than silently writing no reports. The CLI and the library build
// their reports with the same reports code, from the same *Results, so
// they say the same thing about the same run.
//
// Reporter is called before a run starts with what it should report (so
// that an unwritable or busy report directory, or a bad baseline, stops it
// before anything runs); the finish it returns is called once with the
// run's results, writes the reports and releases the directory. It is set
// by package reports. A finish given a run error instead (nil results: the target could not be
// built) writes reports that say so, every requirement not run.
type Reporter func(ReportRequest) (finish func(res *Results, runErr error) (Gate, error), err error)

var (
	reporterMu sync.Mutex
	reporter   Reporter
)

// SetReporter installs the report writer (package reports does, in its
// init). Not for other callers.
func SetReporter(r Reporter) {
	reporterMu.Lock()
	defer reporterMu.Unlock()
	reporter = r
}

var errNoReporter = errors.New("suite.ReportDir and suite.Baseline need the report writer: " +
	`add import _ "github.com/adapterconformance/adapter-conformance/reports" to the test file`)

// startReports claims the report directory and reads the baseline, when
// the options ask for either; finish is nil when they ask for neither.
func startReports(target runner.Target, o *options) (finish func(*Results, error) (Gate, error), err error) {
	if o.reportDir == "" && o.baseline == "" {
		return nil, nil
	}
	reporterMu.Lock()
	r := reporter
	reporterMu.Unlock()
	if r == nil {
		return nil, errNoReporter
	}
	names := o.fixtures
	if len(names) == 0 {
		names = fixtures.DefaultOrder()
	}
	name := o.reportName
	if name == "" {
		name = target.Name()
	}
	return r(ReportRequest{Dir: o.reportDir, Baseline: o.baseline, TargetName: name, Mode: string(target.Mode()), Fixtures: names, Shard: o.shard})
}

// registerReports writes Register's reports after its suite, claiming the
// directory while it writes. A failure to write fails the suite.
func registerReports(target runner.Target, o *options) {
	if o.reportDir == "" && o.baseline == "" {
		return
	}
	res := o.results
	ginkgo.ReportAfterSuite("adapter-conformance: report files", func(types.Report) {
		finish, err := startReports(target, o)
		if err == nil {
			_, err = finish(res, nil)
		}
		if err != nil {
			ginkgo.Fail(fmt.Sprintf("adapter-conformance reports: %v", err))
		}
	})
}
