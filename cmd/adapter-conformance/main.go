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

	adapterconformance "github.com/adapterconformance/adapter-conformance"
	"github.com/adapterconformance/adapter-conformance/fixtures"
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
