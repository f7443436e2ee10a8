package reports

import (
	"errors"

	"github.com/adapterconformance/adapter-conformance/suite"
)

// reports imports suite, never the other way round; suite.Run and
// suite.Register reach this package through the hook it installs here, so
// that suite.ReportDir writes the very files the CLI writes, built by the
// same New, and suite.Baseline gates the same way --baseline does.
func init() { suite.SetReporter(startSuiteReports) }

// startSuiteReports claims the report directory and reads the baseline
// before the run (the CLI does both before it builds the target);
// finish builds the report from the run's results, applies the baseline,
// writes the files and releases the directory.
func startSuiteReports(req suite.ReportRequest) (func(*suite.Results, error) (suite.Gate, error), error) {
	var b *Baseline
	if req.Baseline != "" {
		var err error
		if b, err = ReadBaseline(req.Baseline); err != nil {
			return nil, err
		}
	}
	release := func() {}
	if req.Dir != "" {
		var err error
		if release, err = Claim(req.Dir); err != nil {
			return nil, err
		}
	}
	finish := func(res *suite.Results, runErr error) (suite.Gate, error) {
		defer release()
		target := Target{Name: req.TargetName, Mode: req.Mode}
		var r *Report
		var err error
		if runErr != nil || res == nil {
			if runErr == nil {
				runErr = errNothingRan
			}
			r, err = NotRunReport(target, req.Fixtures, runErr)
			if err == nil && req.Shard.Count > 0 {
				sh := req.Shard
				r.Shard = &sh
			}
		} else {
			target.Declaration, target.DeclarationError = res.Declaration, res.DeclarationError
			r, err = New(target, req.Fixtures, res)
		}
		if err != nil {
			return suite.Gate{}, err
		}
		if b != nil {
			r.ApplyBaseline(b, req.Baseline)
		}
		if req.Dir != "" {
			if err := r.WriteAll(req.Dir); err != nil {
				return suite.Gate{}, err
			}
		}
		return r.Gate(), nil
	}
	return finish, nil
}

var errNothingRan = errors.New("the run ended before any spec ran")

// Gate is the report's verdict as suite.Run gates on it.
func (r *Report) Gate() suite.Gate {
	g := suite.Gate{Verdict: r.Summary.Verdict}
	for _, q := range r.Failures() {
		g.Failures = append(g.Failures, q.ID)
	}
	for _, q := range r.KnownFailures() {
		g.Known = append(g.Known, q.ID)
	}
	for _, e := range r.StaleBaseline() {
		g.Stale = append(g.Stale, StaleMessage(e))
	}
	return g
}
