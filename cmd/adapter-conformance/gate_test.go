package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/adapterconformance/adapter-conformance/reports"
	"github.com/adapterconformance/adapter-conformance/suite"
)

// gateT is what suite.Run fails and logs to, kept apart from the test's
// own t so that a run the test expects to fail does not fail the test.
type gateT struct {
	failed bool
	log    strings.Builder
}

func (g *gateT) Fail()                      { g.failed = true }
func (g *gateT) Logf(f string, args ...any) { fmt.Fprintf(&g.log, f+"\n", args...) }

// runLibrary runs a builtin target through suite.Run, the way a Go test
// does, with its reports in dir.
func runLibrary(t *testing.T, target, dir string, opts ...suite.Option) *gateT {
	t.Helper()
	tg, ok := builtinTargets()[strings.TrimPrefix(target, "builtin:")]
	if !ok {
		t.Fatalf("no builtin target %s", target)
	}
	g := &gateT{}
	opts = append([]suite.Option{suite.Fixtures("basic"), suite.ReportDir(dir), suite.ReportName(target), suite.Quiet()}, opts...)
	if _, err := suite.Run(g, tg, opts...); err != nil {
		t.Fatalf("suite.Run %s: %v", target, err)
	}
	return g
}

func runCLI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(append([]string{"run"}, args...), &out, &errOut)
	return code, out.String() + errOut.String()
}

func readReport(t *testing.T, dir string) *reports.Report {
	t.Helper()
	r, err := reports.Read(filepath.Join(dir, reports.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// comparable keeps what two runs of one target must agree on: no times,
// durations or captured exchanges (ports, Date headers).
func comparable(r *reports.Report) *reports.Report {
	c := *r
	c.GeneratedAt = time.Time{}
	c.Requirements = nil
	for _, q := range r.Requirements {
		q.Specs = append([]reports.Spec(nil), q.Specs...)
		for i := range q.Specs {
			q.Specs[i].DurationMs, q.Specs[i].Exchanges, q.Specs[i].Logs, q.Specs[i].Message = 0, nil, "", ""
		}
		c.Requirements = append(c.Requirements, q)
	}
	return &c
}

// TestReportDirLibraryMatchesCLI: suite.Run with suite.ReportDir writes the
// CLI's four files, and its report.json says what the CLI's says about the
// same target: the same per-requirement results, verdict and counts.
func TestReportDirLibraryMatchesCLI(t *testing.T) {
	for _, target := range []string{"builtin:good-fetch", "builtin:broken-b10-last-header-wins"} {
		t.Run(target, func(t *testing.T) {
			cliDir, libDir := filepath.Join(t.TempDir(), "cli"), filepath.Join(t.TempDir(), "lib")
			code, out := runCLI(t, "--target", target, "--fixture", "basic", "--report-dir", cliDir)
			g := runLibrary(t, target, libDir)
			for _, f := range []string{reports.JSONFile, reports.JUnitFile, reports.HTMLFile, reports.MarkdownFile} {
				if _, err := os.Stat(filepath.Join(libDir, f)); err != nil {
					t.Errorf("library report dir: %v", err)
				}
			}
			if _, err := os.Stat(filepath.Join(libDir, reports.LockFile)); !os.IsNotExist(err) {
				t.Errorf("the library left its lock file behind: %v", err)
			}
			cli, lib := readReport(t, cliDir), readReport(t, libDir)
			if (code == exitFail) != g.failed || (cli.Summary.Verdict == reports.VerdictFail) != g.failed {
				t.Errorf("CLI exit %d, verdict %s; library test failed: %v\n%s", code, cli.Summary.Verdict, g.failed, out)
			}
			if cli.Summary != lib.Summary {
				t.Errorf("summary: CLI %+v, library %+v", cli.Summary, lib.Summary)
			}
			a, b := comparable(cli), comparable(lib)
			for i := range a.Requirements {
				if !reflect.DeepEqual(a.Requirements[i], b.Requirements[i]) {
					t.Errorf("%s: CLI %+v\nlibrary %+v", a.Requirements[i].ID, a.Requirements[i], b.Requirements[i])
				}
			}
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			if !bytes.Equal(ja, jb) {
				t.Errorf("the reports differ beyond times, durations and captures:\nCLI     %s\nlibrary %s", ja, jb)
			}
		})
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBaselineGate: known failures pass the gate, a new failure fails it,
// a stale entry fails it, and --write-baseline round-trips; suite.Baseline
// gates a Go test the same way.
func TestBaselineGate(t *testing.T) {
	const broken = "builtin:broken-b10-last-header-wins" // fails HTTP-10 and RENDER-2
	tmp := t.TempDir()
	written := filepath.Join(tmp, "written.json")

	t.Run("write-baseline round-trips", func(t *testing.T) {
		code, out := runCLI(t, "--target", broken, "--fixture", "basic", "--report-dir", filepath.Join(tmp, "r0"), "--write-baseline", written)
		if code != exitFail {
			t.Fatalf("exit %d, want %d (writing a baseline does not change the verdict)\n%s", code, exitFail, out)
		}
		b, err := reports.ReadBaseline(written)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, e := range b.KnownFailures {
			ids = append(ids, e.ID)
		}
		if strings.Join(ids, ",") != "RENDER-2,HTTP-10,DIFF-4" {
			t.Errorf("baseline lists %v, want RENDER-2, HTTP-10 and DIFF-4", ids)
		}
		dir := filepath.Join(tmp, "r1")
		code, out = runCLI(t, "--target", broken, "--fixture", "basic", "--report-dir", dir, "--baseline", written)
		if code != exitPass {
			t.Fatalf("with its own baseline: exit %d, want 0\n%s", code, out)
		}
		if !strings.Contains(out, "3 known failures (baseline)") || !strings.Contains(out, "RENDER-2, HTTP-10, DIFF-4") {
			t.Errorf("the summary does not show the known failures:\n%s", out)
		}
		r := readReport(t, dir)
		if r.Summary.Verdict != reports.VerdictPass || r.Summary.KnownFailures != 3 || r.Summary.Failed != 3 {
			t.Errorf("summary %+v, want pass with 3 failed, all known", r.Summary)
		}
		for _, q := range r.Requirements {
			if (q.ID == "HTTP-10" || q.ID == "RENDER-2") && (q.Result != reports.Failed || q.KnownFailure == nil || q.KnownFailure.Reason == "") {
				t.Errorf("%s: result %s, known %+v: want failed and known", q.ID, q.Result, q.KnownFailure)
			}
		}
		md, _ := os.ReadFile(filepath.Join(dir, reports.MarkdownFile))
		html, _ := os.ReadFile(filepath.Join(dir, reports.HTMLFile))
		junit, _ := os.ReadFile(filepath.Join(dir, reports.JUnitFile))
		if !strings.Contains(string(md), "## Known failures (baseline)") || !strings.Contains(string(html), "Known failures (baseline)") ||
			!strings.Contains(string(junit), "KNOWN FAILURE: HTTP-10") || strings.Contains(string(junit), "<failure") {
			t.Errorf("summary.md, report.html or junit.xml does not show the known failures as such")
		}
	})

	t.Run("a new failure fails the gate", func(t *testing.T) {
		bl := filepath.Join(tmp, "only-http10.json")
		writeFile(t, bl, `{"schema":"adapter-conformance/baseline/v1","knownFailures":[
			{"id":"HTTP-10","reason":"multi-value headers collapse, fix pending","link":"https://example.test/issues/1"}]}`)
		code, out := runCLI(t, "--target", broken, "--fixture", "basic", "--report-dir", filepath.Join(tmp, "r2"), "--baseline", bl)
		if code != exitFail || !strings.Contains(out, "--focus RENDER-2") || strings.Contains(out, "--focus HTTP-10") {
			t.Errorf("exit %d, want 1 with a rerun of RENDER-2 only\n%s", code, out)
		}
		// A per-shape entry covers only its shape: b10 fails on handler.
		writeFile(t, bl, `{"schema":"adapter-conformance/baseline/v1","knownFailures":[
			{"id":"HTTP-10","shape":"fetch","reason":"r"},{"id":"RENDER-2","reason":"r"}]}`)
		code, out = runCLI(t, "--target", broken, "--fixture", "basic", "--report-dir", filepath.Join(tmp, "r3"), "--baseline", bl)
		if code != exitFail || !strings.Contains(out, "--focus HTTP-10") {
			t.Errorf("exit %d, want 1: HTTP-10 fails on a shape the baseline does not name\n%s", code, out)
		}
		g := runLibrary(t, broken, filepath.Join(tmp, "r4"), suite.Baseline(bl))
		if !g.failed || !strings.Contains(g.log.String(), "failures not in baseline") {
			t.Errorf("suite.Baseline: failed %v, want failed\n%s", g.failed, g.log.String())
		}
	})

	t.Run("a stale entry fails the gate", func(t *testing.T) {
		bl := filepath.Join(tmp, "stale.json")
		writeFile(t, bl, `{"schema":"adapter-conformance/baseline/v1","knownFailures":[{"id":"HTTP-10","reason":"was broken"}]}`)
		dir := filepath.Join(tmp, "r5")
		code, out := runCLI(t, "--target", "builtin:good-fetch", "--fixture", "basic", "--report-dir", dir, "--baseline", bl)
		if code != exitFail || !strings.Contains(out, "baseline entry HTTP-10 is stale") {
			t.Errorf("exit %d, want 1 naming the stale entry\n%s", code, out)
		}
		r := readReport(t, dir)
		if r.Summary.Verdict != reports.VerdictFail || r.Summary.StaleBaseline != 1 || r.Baseline == nil || len(r.Baseline.Stale) != 1 || r.Baseline.Stale[0].ID != "HTTP-10" {
			t.Errorf("report: summary %+v, baseline %+v", r.Summary, r.Baseline)
		}
		md, _ := os.ReadFile(filepath.Join(dir, reports.MarkdownFile))
		if !strings.Contains(string(md), "HTTP-10 is stale") {
			t.Errorf("summary.md does not name the stale entry:\n%s", md)
		}
		g := runLibrary(t, "builtin:good-fetch", filepath.Join(tmp, "r6"), suite.Baseline(bl))
		if !g.failed || !strings.Contains(g.log.String(), "HTTP-10 is stale") {
			t.Errorf("suite.Baseline: failed %v, want failed naming the stale entry\n%s", g.failed, g.log.String())
		}
	})

	t.Run("known failures pass the gate in a Go test", func(t *testing.T) {
		g := runLibrary(t, broken, filepath.Join(tmp, "r7"), suite.Baseline(written))
		if g.failed {
			t.Errorf("suite.Baseline with the written baseline failed the test\n%s", g.log.String())
		}
	})

	t.Run("a bad baseline cannot run", func(t *testing.T) {
		bl := filepath.Join(tmp, "bad.json")
		writeFile(t, bl, `{"schema":"adapter-conformance/baseline/v1","knownFailures":[{"id":"HTTP-999","reason":"typo"}]}`)
		code, out := runCLI(t, "--target", broken, "--fixture", "basic", "--report-dir", filepath.Join(tmp, "r8"), "--baseline", bl)
		if code != exitCannotRun || !strings.Contains(out, "HTTP-999") {
			t.Errorf("exit %d, want 2 naming the entry\n%s", code, out)
		}
	})
}
