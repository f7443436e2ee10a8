package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	adapterconformance "github.com/adapterconformance/adapter-conformance"
	"github.com/adapterconformance/adapter-conformance/fixtures"
	"github.com/adapterconformance/adapter-conformance/reports"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

// cmdRun is "adapter-conformance run": it binds the flags (runFlags),
// builds the target, runs the suite with the options the flags stand for,
// and prints and exits from the run's report (finishRun). Once the report
// directory is claimed, a run that cannot happen still writes its reports
// (notRunReports).
func cmdRun(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &runFlags{}
	f.bind(fs)
	if err := parseFlags(fs, args); err != nil {
		return exitCannotRun, err
	}
	shard, err := f.shardSpec()
	if err != nil {
		return exitCannotRun, err
	}
	baseline, err := f.readBaseline()
	if err != nil {
		return exitCannotRun, err
	}
	release, err := f.claimReportDir()
	if err != nil {
		return exitCannotRun, err
	}
	defer release()
	notRun := &notRunReports{flags: f, shard: shard, stderr: stderr}
	if f.target == "" {
		return notRun.report(usageError{"--target is required"})
	}
	notRun.mode = runner.Mode(f.mode)
	if err := f.validate(); err != nil {
		return notRun.report(err)
	}
	targetOpts, err := f.runnerOptions()
	if err != nil {
		return notRun.report(err)
	}
	began := time.Now()
	t, err := buildTarget(f, targetOpts, began, notRun)
	if c, ok := t.(io.Closer); ok {
		// suite.Run closes it too; Close is safe twice. This one covers
		// a run that ends before suite.Run (a build interrupted midway).
		defer c.Close()
	}
	if err == nil {
		err = f.fitFixtures(t.Mode())
	}
	if err != nil {
		return notRun.report(err)
	}
	fmt.Fprintf(stderr, "adapter-conformance %s: %s target %s\n", adapterconformance.Version, t.Mode(), t.Name())
	if line := imageLine(t); line != "" {
		fmt.Fprintln(stderr, line)
	}
	opts, err := f.suiteOptions(shard, began.Add(f.timeout))
	if err != nil {
		return notRun.report(err)
	}
	if shard.Count > 0 {
		fmt.Fprintf(stderr, "shard %s: the specs of other shards are reported as other-shard; merge the shards' reports with 'report merge'\n", shard)
	}
	fmt.Fprintf(stderr, "differential corpus: seed %d, %d requests per host (rerun with --seed %d)\n", f.seed, f.corpus, f.seed)
	res, err := suite.Run(nil, t, opts...)
	if err != nil {
		return notRun.report(err)
	}
	return finishRun(f, t, res, baseline, stdout, stderr)
}

// runFlags are the flags of "run". Most stand for one option of the suite
// (suite.Option) or of the runner (runner.Option), and suiteOptions and
// runnerOptions turn them into those; the rest say what to test and where
// its report and baseline go. bind declares them with their defaults.
type runFlags struct {
	target        string        // --target: what resolveTarget builds
	mode          string        // --mode: resolveTarget's mode
	fixtures      multiFlag     // --fixture: suite.Fixtures
	focus         multiFlag     // --focus: suite.Focus
	labelFilter   string        // --label-filter: suite.LabelFilter
	reportDir     string        // --report-dir: where the report files go ("" for none)
	timeout       time.Duration // --timeout: the build's deadline and suite.Timeout
	verbose       bool          // -v: summarize's table of requirements even on a pass
	seed          uint64        // --seed: suite.Seed
	corpus        int           // --corpus: suite.Corpus
	strict        bool          // --strict: suite.Strict
	baseline      string        // --baseline: the file reports.ApplyBaseline reads
	writeBaseline string        // --write-baseline: the file reports.WriteBaseline writes
	timeouts      string        // --timeouts: runner.WithTimeouts
	noImageCache  bool          // --no-image-cache: runner.WithoutImageCache
	shard         string        // --shard: suite.Shard
}

// bind declares the flags on fs, with their defaults and help (what
// "run --help" prints).
func (f *runFlags) bind(fs *flag.FlagSet) {
	fs.StringVar(&f.target, "target", "", "the adapter to test: builtin:NAME, a Go package dir, an executable, a Dockerfile dir, a local image, or a URL")
	fs.StringVar(&f.mode, "mode", "auto", "auto, inprocess, binary, container or url")
	fs.Var(&f.fixtures, "fixture", "fixture app name or directory (repeatable; default: all built-in)")
	fs.Var(&f.focus, "focus", "run only this requirement ID (repeatable)")
	fs.StringVar(&f.labelFilter, "label-filter", "", "ginkgo label filter")
	fs.StringVar(&f.reportDir, "report-dir", "adapter-conformance-report", "write report.json, junit.xml, report.html and summary.md here (\"\" for none)")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Minute, "bound the whole run, building the target included")
	fs.BoolVar(&f.verbose, "v", false, "print every requirement's result, not only the counts, when the run passes")
	fs.Uint64Var(&f.seed, "seed", suite.DefaultSeed, "seed of the differential corpus (DIFF-1..5); a failure names the seed to rerun with")
	fs.IntVar(&f.corpus, "corpus", suite.DefaultCorpus, "size of the differential corpus, in requests per fixture and host (more for a nightly run)")
	fs.BoolVar(&f.strict, "strict", false, "fail on a failed SHOULD too (without it a failed SHOULD is a warning and the run can pass)")
	fs.StringVar(&f.baseline, "baseline", "", "a baseline file of known failures: they do not fail the run, new ones and stale entries do")
	fs.StringVar(&f.writeBaseline, "write-baseline", "", "write this run's failures to this file, as a baseline")
	fs.StringVar(&f.timeouts, "timeouts", "", "the waits on the adapter, as NAME=DURATION,... with NAME one of readiness, grace, describe, request, concurrent, shutdown-reaction, stop (default "+runner.DefaultTimeouts().String()+")")
	fs.BoolVar(&f.noImageCache, "no-image-cache", false, "container mode: build the image afresh and remove it at the end, instead of reusing (and keeping) an image built from the same build context")
	fs.StringVar(&f.shard, "shard", "", "run part i of n of the work (i/n, such as 2/3), for a CI matrix; merge the shards' reports with 'report merge'")
}

// shardSpec is --shard parsed; the zero ShardSpec (the whole run) without it.
func (f *runFlags) shardSpec() (suite.ShardSpec, error) {
	if f.shard == "" {
		return suite.ShardSpec{}, nil
	}
	s, err := suite.ParseShard(f.shard)
	if err != nil {
		return suite.ShardSpec{}, usageError{"--shard: " + err.Error()}
	}
	return s, nil
}

// readBaseline reads the --baseline file, before anything runs; nil
// without --baseline.
func (f *runFlags) readBaseline() (*reports.Baseline, error) {
	if f.baseline == "" {
		return nil, nil
	}
	return reports.ReadBaseline(f.baseline)
}

// claimReportDir claims --report-dir (reports.Claim) before anything runs:
// an unwritable directory, or one another run is writing, found after the
// run would lose its results. release gives it back; without --report-dir
// there is nothing to claim.
func (f *runFlags) claimReportDir() (release func(), err error) {
	if f.reportDir == "" {
		return func() {}, nil
	}
	return reports.Claim(f.reportDir)
}

// validate checks the flags that need no target (fixtures, filters,
// --timeout), so that a typo is found before a build that may take minutes.
func (f *runFlags) validate() error {
	for _, name := range f.fixtures {
		if _, err := fixtures.Resolve(name); err != nil {
			return fmt.Errorf("--fixture: %w", err)
		}
	}
	if f.labelFilter != "" {
		if _, err := types.ParseLabelFilter(f.labelFilter); err != nil {
			return usageError{fmt.Sprintf("--label-filter %q: %v", f.labelFilter, err)}
		}
	}
	if f.timeout <= 0 {
		return usageError{"--timeout must be positive"}
	}
	for _, id := range f.focus {
		if _, ok := suite.RequirementByID(id); !ok {
			return usageError{fmt.Sprintf("--focus %s: no such requirement in SPEC.md", id)}
		}
	}
	return nil
}

// runnerOptions are the runner options the flags stand for: the waits on
// the adapter (--timeouts, readiness among them) and the image cache.
func (f *runFlags) runnerOptions() ([]runner.Option, error) {
	var opts []runner.Option
	if f.timeouts != "" {
		tm, err := runner.ParseTimeouts(f.timeouts)
		if err != nil {
			return nil, usageError{"--timeouts: " + err.Error()}
		}
		opts = append(opts, runner.WithTimeouts(tm))
	}
	if f.noImageCache {
		opts = append(opts, runner.WithoutImageCache())
	}
	return opts, nil
}

// fitFixtures fits --fixture to a target of this mode: a URL target serves
// one fixture app, basic unless --fixture names another.
func (f *runFlags) fitFixtures(mode runner.Mode) error {
	if mode != runner.ModeURL {
		return nil
	}
	switch len(f.fixtures) {
	case 0:
		f.fixtures = multiFlag{"basic"}
	case 1:
	default:
		return usageError{"a URL target serves one fixture app: give at most one --fixture"}
	}
	return nil
}

// suiteOptions are the suite options the flags stand for, the specs'
// time being what is left until the run's deadline.
func (f *runFlags) suiteOptions(shard suite.ShardSpec, deadline time.Time) ([]suite.Option, error) {
	opts := []suite.Option{suite.Fixtures(f.fixtures...), suite.Focus(f.focus...), suite.LabelFilter(f.labelFilter),
		suite.Timeout(time.Until(deadline))}
	if !isTerminal(os.Stdout) {
		// A CI log or a file: no ANSI colour codes in ginkgo's progress.
		opts = append(opts, suite.NoColor())
	}
	if f.strict {
		opts = append(opts, suite.Strict())
	}
	if f.corpus <= 0 {
		return nil, usageError{"--corpus must be positive"}
	}
	opts = append(opts, suite.Seed(f.seed), suite.Corpus(f.corpus))
	if shard.Count > 0 {
		opts = append(opts, suite.Shard(shard.Index, shard.Count))
	}
	return opts, nil
}

// isTerminal reports whether f is a character device (a terminal), not a
// pipe or a file.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// reportFixtures are the fixtures a run uses: those named, or by default
// every built-in one (as suite.Fixtures has it).
func reportFixtures(names []string) []string {
	if len(names) > 0 {
		return names
	}
	return fixtures.DefaultOrder()
}

// buildTarget resolves and builds --target (prepareTarget) within
// --timeout from began. When the run is cut before any spec could run
// (interrupted, or out of time, a target ready only after the deadline
// included), it tells notRun why, so that the reports say the run did not
// finish, and notRun learns the target's mode once it is resolved.
func buildTarget(f *runFlags, opts []runner.Option, began time.Time, notRun *notRunReports) (runner.Target, error) {
	deadline := began.Add(f.timeout)
	t, err := prepareTarget(deadline, f.target, runner.Mode(f.mode), opts...)
	switch {
	case errors.Is(err, errInterrupted):
		notRun.cut = "the run was interrupted while the target was being built or started"
	case err != nil && !time.Now().Before(deadline):
		notRun.cut = fmt.Sprintf("--timeout %s ran out while the target was being built or started; give it more time", f.timeout)
	case err == nil && !time.Now().Before(deadline):
		notRun.cut = fmt.Sprintf("--timeout %s ran out before any spec could run: building and starting the target took %s; give it more time", f.timeout, time.Since(began).Round(time.Millisecond))
		err = errors.New(notRun.cut)
	}
	if t != nil {
		notRun.mode = t.Mode()
	}
	return t, err
}

// notRunReports ends a run that cannot happen (a bad flag, a target that does not
// build, an interrupt before the specs) after the report directory is
// claimed: it still writes the reports, every requirement not run with the
// reason, so that a CI job uploading the report directory finds why there.
type notRunReports struct {
	flags  *runFlags
	shard  suite.ShardSpec
	stderr io.Writer
	// mode is the target's mode as far as it is known: none before
	// --target is read, the --mode asked for until the target is
	// resolved, then the target's.
	mode runner.Mode
	// cut, when set, says the run was interrupted or out of time before
	// its specs ran: the reports then say it did not finish, as any cut
	// run's.
	cut string
}

// report writes the not-run reports for err and returns what cmdRun
// returns: exit 2 and err. A report that cannot be written is said on
// stderr; err stays the cause.
func (n *notRunReports) report(err error) (int, error) {
	if n.flags.reportDir == "" {
		return exitCannotRun, err
	}
	r, rerr := reports.NotRunReport(reports.Target{Name: n.flags.target, Mode: string(n.mode)}, reportFixtures(n.flags.fixtures), err)
	if rerr == nil {
		if n.cut != "" {
			r.MarkIncomplete(n.cut)
		}
		r.Command = reportCommand()
		if n.shard.Count > 0 {
			r.Shard = &n.shard
		}
		rerr = r.WriteAll(n.flags.reportDir)
	}
	if rerr != nil {
		fmt.Fprintln(n.stderr, "adapter-conformance: writing the reports:", rerr)
	}
	return exitCannotRun, err
}

// finishRun builds the run's report from the suite's results, prints its
// summary, writes the baseline and the report files asked for, and returns
// the run's exit status, which the report says (runExit).
func finishRun(f *runFlags, t runner.Target, res *suite.Results, baseline *reports.Baseline, stdout, stderr io.Writer) (int, error) {
	r, err := reports.New(reports.Target{Name: f.target, Mode: string(t.Mode()), Declaration: res.Declaration, DeclarationError: res.DeclarationError},
		reportFixtures(f.fixtures), res)
	if err != nil {
		// A kit bug (an outcome naming a requirement SPEC.md lacks): say so
		// rather than drop the outcome.
		return exitCannotRun, fmt.Errorf("building the report: %w", err)
	}
	r.Command = reportCommand()
	if baseline != nil {
		r.ApplyBaseline(baseline, f.baseline)
	}
	summarize(stdout, r, f.verbose)
	if f.writeBaseline != "" {
		if err := r.WriteBaseline(f.writeBaseline); err != nil {
			return exitCannotRun, err
		}
		fmt.Fprintf(stdout, "baseline: %s (%d known failure(s))\n", f.writeBaseline, len(r.Failures())+len(r.KnownFailures()))
	}
	code := runExit(r, stderr)
	if f.reportDir != "" {
		if err := r.WriteAll(f.reportDir); err != nil {
			fmt.Fprintln(stderr, "adapter-conformance: writing the reports:", err)
			if code == exitPass {
				code = exitCannotRun
			}
		} else {
			fmt.Fprintf(stdout, "reports: %s\n", f.reportDir)
		}
	}
	return code, nil
}

// runExit is the exit status of a run that ran its specs, read from its
// report, and says on stderr why it is not 0 or 1.
func runExit(r *reports.Report, stderr io.Writer) int {
	switch {
	case r.Incomplete != "":
		// Failures found before the cut are in the reports, but a run that
		// did not finish is first of all that: exit 2 asks for a rerun.
		fmt.Fprintln(stderr, "adapter-conformance: the run did not finish:", r.Incomplete)
		return exitCannotRun
	case r.Summary.Verdict == reports.VerdictFail:
		return exitFail
	case r.Summary.Verdict == reports.VerdictInconclusive:
		// Nothing was checked: a filter that selects nothing, or a target
		// that could not be reached. That is not a pass (the report's
		// verdict is inconclusive).
		fmt.Fprintln(stderr, "adapter-conformance: no requirement was checked (see the skip reasons above)")
		return exitCannotRun
	}
	return exitPass
}
