// Command adapter-conformance runs the conformance suite against an adapter.
// It is a thin shell over the suite and runner packages: everything it does
// is also reachable from a Go test with suite.Test.
//
//	adapter-conformance run --target TARGET [--mode M] [--fixture NAME|PATH]... [--focus ID]... [--label-filter EXPR] [--report-dir DIR] [--timeout D] [--seed N] [--corpus N] [--strict] [--baseline FILE] [--write-baseline FILE] [--shard i/n] [--no-image-cache] [--timeouts NAME=D,...]
//	adapter-conformance report merge DIR... --out DIR
//	adapter-conformance report diff OLD NEW
//	adapter-conformance list [--area AREA] [--status checked|planned]
//	adapter-conformance fixtures export DIR
//	adapter-conformance version
//
// Exit status: 0 when every applicable MUST passed (a failed SHOULD is a
// warning, unless --strict), 1 when one failed, 2 when the kit could not run (bad flags, a target that is missing
// or does not build) or checked nothing. With --baseline FILE, a failure the
// baseline lists does not fail the run; one it does not list, or an entry
// that now passes (stale), does. "report merge" exits as the merged run
// would have; "report diff" exits 0 unless it cannot read its reports.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	adapterconformance "github.com/adapterconformance/adapter-conformance"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/adapterconformance/adapter-conformance/fixtures"
	"github.com/adapterconformance/adapter-conformance/reports"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

const (
	exitPass      = 0
	exitFail      = 1
	exitCannotRun = 2
)

func main() {
	wd, _ := os.Getwd()
	startedAs = invocation(os.Args[0], wd, installedVersion())
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// startedAs is how the kit was started, the start of every rerun command:
// main sets it from os.Args[0] (see invocation).
var startedAs = "adapter-conformance"

// reportCommand is the report's Command: "" for the default
// (adapter-conformance), so that a report says the same as suite.ReportDir's
// of the same run.
func reportCommand() string {
	if startedAs == "adapter-conformance" {
		return ""
	}
	return startedAs
}

// goRunExe matches the directories "go run" puts the command it built in:
// $GOTMPDIR/go-build123456/b001/exe/, or, since Go 1.24 caches what it
// runs, $GOCACHE/8c/<64 hex digits>-d/.
var goRunExe = regexp.MustCompile(`((^|/)go-build[0-9]+/b[0-9]+/exe|(^|/)[0-9a-f]{2}/[0-9a-f]{64}-d)$`)

// invocation says how to start the kit again, given os.Args[0] and the
// working directory: under "go run" the binary lives in a temporary or
// cache directory nobody types, so the rerun command is "go run" again, of
// the package in this module ("./cmd/adapter-conformance") when
// the working directory is the kit's own checkout, else by import path (a
// module that requires the kit, such as an adapter's). Otherwise it is the
// binary as it was named ("adapter-conformance", "./bin/adapter-conformance").
// version is the kit's module version when the command was built as
// "go run ...@version" ("" otherwise): the rerun command asks for it again.
func invocation(arg0, wd, version string) string {
	if goRunExe.MatchString(filepath.ToSlash(filepath.Dir(arg0))) {
		if fi, err := os.Stat(filepath.Join(wd, "cmd", "adapter-conformance", "main.go")); err == nil && !fi.IsDir() {
			return "go run ./cmd/adapter-conformance"
		}
		if version != "" {
			return "go run " + kitCommand + "@" + version
		}
		return "go run " + kitCommand
	}
	if arg0 == "" {
		return "adapter-conformance"
	}
	return shellWord(arg0)
}

// kitCommand is this command's import path.
const kitCommand = "github.com/adapterconformance/adapter-conformance/cmd/adapter-conformance"

// installedVersion is the kit's version when this binary was built as the
// main module at a version ("go run|install ...@v1.2.3"), else "": built
// in the kit's checkout it is "(devel)", and built in a module that
// requires the kit, the main module is that one.
func installedVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Path != "github.com/adapterconformance/adapter-conformance" || bi.Main.Version == "" || bi.Main.Version == "(devel)" {
		return ""
	}
	return bi.Main.Version
}

// shellWord quotes s for a POSIX shell when it needs quoting.
func shellWord(s string) string {
	if regexp.MustCompile(`^[A-Za-z0-9_./:@%+=,-]+$`).MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// usageError is a problem with how the kit was invoked (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return exitCannotRun
	}
	var err error
	code := exitPass
	switch args[0] {
	case "run":
		code, err = cmdRun(args[1:], stdout, stderr)
	case "list":
		err = cmdList(args[1:], stdout)
	case "report":
		code, err = cmdReport(args[1:], stdout, stderr)
	case "fixtures":
		err = cmdFixtures(args[1:], stdout)
	case "version":
		if len(args) > 1 {
			err = usageError{fmt.Sprintf("version takes no arguments, got %q", args[1:])}
			break
		}
		fmt.Fprintln(stdout, "adapter-conformance", adapterconformance.Version)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
	default:
		err = usageError{fmt.Sprintf("unknown command %q", args[0])}
	}
	if errors.Is(err, errHelp) {
		return exitPass
	}
	if err != nil {
		fmt.Fprintln(stderr, "adapter-conformance:", err)
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(stderr, usage)
		}
		return exitCannotRun
	}
	return code
}

const usage = `usage:
  adapter-conformance run --target TARGET [--mode M] [--fixture NAME|PATH]... [--focus ID]... [--label-filter EXPR] [--report-dir DIR] [--timeout D] [--seed N] [--corpus N] [--strict] [--baseline FILE] [--write-baseline FILE] [--shard i/n] [--no-image-cache] [--timeouts NAME=D,...]
  adapter-conformance report merge DIR... --out DIR    merge the shards' reports into the run's
  adapter-conformance report diff OLD NEW              newly failing and passing requirements, as Markdown
  adapter-conformance list [--area AREA] [--status checked|planned] [--targets]
  adapter-conformance fixtures export DIR
  adapter-conformance version

TARGET is one of
  builtin:NAME         one of the kit's own adapters (see 'adapter-conformance list --targets')
  DIR or EXECUTABLE    a Go main package (or one under DIR/cmd/) or a program, run as a binary
  DIR or IMAGE         a directory with a Dockerfile, or a local image, run as a container
  http(s)://...        an already running deployment
--mode auto|inprocess|binary|container|url overrides the guess.

Exit status: 0 every applicable MUST passed (a failed SHOULD is a warning;
--strict makes it a failure), 1 a requirement failed, 2 the kit could not run or finish (bad flags, a target that is missing or
does not build, nothing checked, an interrupt, --timeout reached). Reports
are written in every case after the flags parse.`

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// isTerminal reports whether f is a character device (a terminal), not a
// pipe or a file.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// errHelp is --help or -h given to a command: its usage has been printed,
// and asking for help is not an error (exit 0).
var errHelp = flag.ErrHelp

// parseFlags parses a command's flags and refuses what is left over: the
// flag package stops at the first argument that is not a flag, so a stray
// word ("run --target x basic --focus HTTP-1") would otherwise silently drop
// every flag after it and run something other than what was asked.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("%s: unexpected argument %q (flags after it were not read); every option is a --flag", fs.Name(), fs.Arg(0))}
	}
	return nil
}

func cmdRun(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("target", "", "the adapter to test: builtin:NAME, a Go package dir, an executable, a Dockerfile dir, a local image, or a URL")
	mode := fs.String("mode", "auto", "auto, inprocess, binary, container or url")
	var fixtureNames, focus multiFlag
	fs.Var(&fixtureNames, "fixture", "fixture app name or directory (repeatable; default: all built-in)")
	fs.Var(&focus, "focus", "run only this requirement ID (repeatable)")
	labelFilter := fs.String("label-filter", "", "ginkgo label filter")
	reportDir := fs.String("report-dir", "adapter-conformance-report", "write report.json, junit.xml, report.html and summary.md here (\"\" for none)")
	timeout := fs.Duration("timeout", 10*time.Minute, "bound the whole run, building the target included")
	verbose := fs.Bool("v", false, "print every requirement's result, not only the counts, when the run passes")
	seed := fs.Uint64("seed", suite.DefaultSeed, "seed of the differential corpus (DIFF-1..5); a failure names the seed to rerun with")
	corpus := fs.Int("corpus", suite.DefaultCorpus, "size of the differential corpus, in requests per fixture and host (more for a nightly run)")
	strict := fs.Bool("strict", false, "fail on a failed SHOULD too (without it a failed SHOULD is a warning and the run can pass)")
	baselineFile := fs.String("baseline", "", "a baseline file of known failures: they do not fail the run, new ones and stale entries do")
	writeBaseline := fs.String("write-baseline", "", "write this run's failures to this file, as a baseline")
	timeoutsFlag := fs.String("timeouts", "", "the waits on the adapter, as NAME=DURATION,... with NAME one of readiness, grace, describe, request, concurrent, shutdown-reaction, stop (default "+runner.DefaultTimeouts().String()+")")
	noImageCache := fs.Bool("no-image-cache", false, "container mode: build the image afresh and remove it at the end, instead of reusing (and keeping) an image built from the same build context")
	shardFlag := fs.String("shard", "", "run part i of n of the work (i/n, such as 2/3), for a CI matrix; merge the shards' reports with 'report merge'")
	if err := parseFlags(fs, args); err != nil {
		return exitCannotRun, err
	}
	var shard suite.ShardSpec
	if *shardFlag != "" {
		s, err := suite.ParseShard(*shardFlag)
		if err != nil {
			return exitCannotRun, usageError{"--shard: " + err.Error()}
		}
		shard = s
	}
	var baseline *reports.Baseline
	if *baselineFile != "" {
		b, err := reports.ReadBaseline(*baselineFile)
		if err != nil {
			return exitCannotRun, err
		}
		baseline = b
	}
	if *reportDir != "" {
		// Before anything runs: an unwritable directory, or one another
		// run is writing, found after the run would lose its results.
		release, err := reports.Claim(*reportDir)
		if err != nil {
			return exitCannotRun, err
		}
		defer release()
	}
	// From here on a run that cannot happen still leaves its reports, so
	// that a CI job uploading the report directory finds why there.
	// cut, when set, says the run was interrupted or out of time before its
	// specs ran: the reports then say it did not finish, as any cut run's.
	var cut string
	cannotRun := func(mode runner.Mode, err error) (int, error) {
		if *reportDir != "" {
			r, rerr := reports.NotRunReport(reports.Target{Name: *target, Mode: string(mode)}, reportFixtures(fixtureNames), err)
			if rerr == nil && cut != "" {
				r.MarkIncomplete(cut)
			}
			if rerr == nil {
				r.Command = reportCommand()
				if shard.Count > 0 {
					r.Shard = &shard
				}
			}
			if rerr == nil {
				rerr = r.WriteAll(*reportDir)
			}
			if rerr != nil {
				fmt.Fprintln(stderr, "adapter-conformance: writing the reports:", rerr)
			}
		}
		return exitCannotRun, err
	}
	if *target == "" {
		return cannotRun("", usageError{"--target is required"})
	}
	for _, f := range fixtureNames {
		if _, err := fixtures.Resolve(f); err != nil {
			return cannotRun(runner.Mode(*mode), fmt.Errorf("--fixture: %w", err))
		}
	}
	if *labelFilter != "" {
		if _, err := types.ParseLabelFilter(*labelFilter); err != nil {
			return cannotRun(runner.Mode(*mode), usageError{fmt.Sprintf("--label-filter %q: %v", *labelFilter, err)})
		}
	}
	if *timeout <= 0 {
		return cannotRun(runner.Mode(*mode), usageError{"--timeout must be positive"})
	}
	for _, id := range focus {
		if _, ok := suite.RequirementByID(id); !ok {
			return cannotRun(runner.Mode(*mode), usageError{fmt.Sprintf("--focus %s: no such requirement in SPEC.md", id)})
		}
	}
	began := time.Now()
	deadline := began.Add(*timeout)
	var targetOpts []runner.Option
	if *timeoutsFlag != "" {
		tm, err := runner.ParseTimeouts(*timeoutsFlag)
		if err != nil {
			return cannotRun(runner.Mode(*mode), usageError{"--timeouts: " + err.Error()})
		}
		targetOpts = append(targetOpts, runner.WithTimeouts(tm))
	}
	if *noImageCache {
		targetOpts = append(targetOpts, runner.WithoutImageCache())
	}
	t, err := prepareTarget(deadline, *target, runner.Mode(*mode), targetOpts...)
	switch {
	case errors.Is(err, errInterrupted):
		cut = "the run was interrupted while the target was being built or started"
	case err != nil && !time.Now().Before(deadline):
		cut = fmt.Sprintf("--timeout %s ran out while the target was being built or started; give it more time", *timeout)
	case err == nil && !time.Now().Before(deadline):
		cut = fmt.Sprintf("--timeout %s ran out before any spec could run: building and starting the target took %s; give it more time", *timeout, time.Since(began).Round(time.Millisecond))
		err = errors.New(cut)
	}
	if t != nil {
		// suite.Run closes it too; Close is safe twice. This one covers
		// a run that ends before suite.Run (a build interrupted midway).
		if c, ok := t.(io.Closer); ok {
			defer c.Close()
		}
	}
	if err != nil {
		if t != nil {
			return cannotRun(t.Mode(), err)
		}
		return cannotRun(runner.Mode(*mode), err)
	}
	if t.Mode() == runner.ModeURL && len(fixtureNames) > 1 {
		return cannotRun(t.Mode(), usageError{"a URL target serves one fixture app: give at most one --fixture"})
	}
	if t.Mode() == runner.ModeURL && len(fixtureNames) == 0 {
		fixtureNames = multiFlag{"basic"}
	}
	fmt.Fprintf(stderr, "adapter-conformance %s: %s target %s\n", adapterconformance.Version, t.Mode(), t.Name())
	if line := imageLine(t); line != "" {
		fmt.Fprintln(stderr, line)
	}
	opts := []suite.Option{suite.Fixtures(fixtureNames...), suite.Focus(focus...), suite.LabelFilter(*labelFilter),
		suite.Timeout(time.Until(deadline))}
	if !isTerminal(os.Stdout) {
		// A CI log or a file: no ANSI colour codes in ginkgo's progress.
		opts = append(opts, suite.NoColor())
	}
	if *strict {
		opts = append(opts, suite.Strict())
	}
	if *corpus <= 0 {
		return cannotRun(t.Mode(), usageError{"--corpus must be positive"})
	}
	opts = append(opts, suite.Seed(*seed), suite.Corpus(*corpus))
	if shard.Count > 0 {
		opts = append(opts, suite.Shard(shard.Index, shard.Count))
		fmt.Fprintf(stderr, "shard %s: the specs of other shards are reported as other-shard; merge the shards' reports with 'report merge'\n", shard)
	}
	fmt.Fprintf(stderr, "differential corpus: seed %d, %d requests per host (rerun with --seed %d)\n", *seed, *corpus, *seed)
	res, err := suite.Run(nil, t, opts...)
	if err != nil {
		return cannotRun(t.Mode(), err)
	}
	r, err := reports.New(reports.Target{Name: *target, Mode: string(t.Mode()), Declaration: res.Declaration, DeclarationError: res.DeclarationError},
		reportFixtures(fixtureNames), res)
	if err != nil {
		// A kit bug (an outcome naming a requirement SPEC.md lacks): say so
		// rather than drop the outcome.
		return exitCannotRun, fmt.Errorf("building the report: %w", err)
	}
	r.Command = reportCommand()
	if baseline != nil {
		r.ApplyBaseline(baseline, *baselineFile)
	}
	summarize(stdout, r, *verbose)
	if *writeBaseline != "" {
		if err := r.WriteBaseline(*writeBaseline); err != nil {
			return exitCannotRun, err
		}
		fmt.Fprintf(stdout, "baseline: %s (%d known failure(s))\n", *writeBaseline, len(r.Failures())+len(r.KnownFailures()))
	}
	code := exitPass
	switch {
	case res.CutShort != "":
		// Failures found before the cut are in the reports, but a run that
		// did not finish is first of all that: exit 2 asks for a rerun.
		fmt.Fprintln(stderr, "adapter-conformance: the run did not finish:", res.CutShort)
		code = exitCannotRun
	case r.Summary.Verdict == reports.VerdictFail:
		code = exitFail
	case r.Summary.Verdict == reports.VerdictInconclusive:
		// Nothing was checked: a filter that selects nothing, or a target
		// that could not be reached. That is not a pass (the report's
		// verdict is inconclusive).
		fmt.Fprintln(stderr, "adapter-conformance: no requirement was checked (see the skip reasons above)")
		code = exitCannotRun
	}
	if *reportDir != "" {
		if err := r.WriteAll(*reportDir); err != nil {
			fmt.Fprintln(stderr, "adapter-conformance: writing the reports:", err)
			if code == exitPass {
				code = exitCannotRun
			}
		} else {
			fmt.Fprintf(stdout, "reports: %s\n", *reportDir)
		}
	}
	return code, nil
}

// reportFixtures are the fixtures a run uses: those named, or by default
// every built-in one (as suite.Fixtures has it).
func reportFixtures(names []string) []string {
	if len(names) > 0 {
		return names
	}
	return fixtures.DefaultOrder()
}

func cmdList(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	area := fs.String("area", "", "only this area (DECL, HTTP, ...)")
	status := fs.String("status", "", "only checked or planned requirements")
	targets := fs.Bool("targets", false, "list the built-in targets instead")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *targets {
		var names []string
		for n := range builtinTargets() {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintln(stdout, "builtin:"+n)
		}
		return nil
	}
	reqs, err := suite.Requirements()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLEVEL\tSTATUS\tSHAPES\tMODES\tREQUIREMENT")
	for _, r := range reqs {
		if *area != "" && !strings.EqualFold(r.Area, *area) {
			continue
		}
		if *status != "" && !strings.HasPrefix(r.Status, *status) {
			continue
		}
		text := r.Text
		if len(text) > 90 {
			text = text[:87] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Level, r.Status, strings.Join(r.Shapes, ","), strings.Join(r.Modes, ","), text)
	}
	return tw.Flush()
}

func cmdFixtures(args []string, stdout io.Writer) error {
	if len(args) != 2 || args[0] != "export" {
		return usageError{"usage: adapter-conformance fixtures export DIR"}
	}
	if err := fixtures.ExportAll(args[1]); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %s to %s\n", strings.Join(fixtures.Names(), ", "), args[1])
	return nil
}
