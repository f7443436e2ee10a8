package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/adapterconformance/adapter-conformance/reports"
)

// cmdReport works on report files already written: "report merge" puts
// the shards of a run (--shard i/n) back together, "report diff" says what
// changed between two runs.
func cmdReport(args []string, stdout, stderr io.Writer) (int, error) {
	if len(args) == 0 {
		return exitCannotRun, usageError{"report: want 'report merge DIR... --out DIR' or 'report diff OLD NEW'"}
	}
	switch args[0] {
	case "merge":
		return cmdReportMerge(args[1:], stdout, stderr)
	case "diff":
		return exitPass, cmdReportDiff(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return exitPass, errHelp
	default:
		return exitCannotRun, usageError{fmt.Sprintf("report: unknown command %q (want merge or diff)", args[0])}
	}
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments ("merge a b --out c"): the flag package alone stops
// at the first argument that is not a flag and would leave --out unread.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, errHelp
			}
			return nil, usageError{err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if rest[0] == "--" {
			return append(positional, rest[1:]...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// reportFile is DIR/report.json for a report directory, or the path itself
// for a file.
func reportFile(path string) string {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return filepath.Join(path, reports.JSONFile)
	}
	return path
}

// cmdReportMerge merges the shards' report.json files into one report set,
// prints it as "run" would have and exits as "run" would have: the merge
// step is a CI matrix's gate.
func cmdReportMerge(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("report merge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "write the merged report.json, junit.xml, report.html and summary.md here")
	verbose := fs.Bool("v", false, "print every requirement's result, not only the counts, when the run passes")
	dirs, err := parseInterleaved(fs, args)
	if err != nil {
		return exitCannotRun, err
	}
	if *out == "" || len(dirs) == 0 {
		return exitCannotRun, usageError{"report merge: want 'report merge DIR... --out DIR' (each DIR a shard's report directory or report.json)"}
	}
	var shards []*reports.Report
	for _, d := range dirs {
		r, err := reports.Read(reportFile(d))
		if err != nil {
			return exitCannotRun, err
		}
		shards = append(shards, r)
	}
	m, err := reports.Merge(shards)
	if err != nil {
		return exitCannotRun, err
	}
	release, err := reports.Claim(*out)
	if err != nil {
		return exitCannotRun, err
	}
	defer release()
	if err := m.WriteAll(*out); err != nil {
		return exitCannotRun, err
	}
	summarize(stdout, m, *verbose)
	fmt.Fprintf(stdout, "merged %d shard(s): %s\n", len(shards), *out)
	switch m.Summary.Verdict {
	case reports.VerdictFail:
		return exitFail, nil
	case reports.VerdictInconclusive:
		fmt.Fprintln(stderr, "adapter-conformance: the merged run checked nothing, or not everything (see the report)")
		return exitCannotRun, nil
	}
	return exitPass, nil
}

// cmdReportDiff prints, as Markdown for a pull-request comment, the
// requirements that newly fail and newly pass from OLD to NEW (each a
// report directory or report.json). It exits 0 whatever changed: the run
// itself is the gate, the diff is what to read.
func cmdReportDiff(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("report diff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(paths) != 2 {
		return usageError{"report diff: want 'report diff OLD NEW' (each a report directory or report.json)"}
	}
	old, err := reports.Read(reportFile(paths[0]))
	if err != nil {
		return err
	}
	new, err := reports.Read(reportFile(paths[1]))
	if err != nil {
		return err
	}
	return reports.Compare(old, new).WriteMarkdown(stdout)
}
