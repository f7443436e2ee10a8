package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/adapterconformance/adapter-conformance/reports"
	"github.com/adapterconformance/adapter-conformance/suite"
)

// countsLine is the terminal's counts line ("118 requirements: ...").
var countsLine = regexp.MustCompile(`(?m)^[0-9]+ requirements: .*$`)

// specKey names one spec of a report.
type specKey struct{ id, spec, fixture, shape string }

// TestShardsMergeToTheUnshardedRun: --shard 1/3..3/3 then report merge
// gives the unsharded run's report (results, reasons, counts, verdict) and
// exit status, on a good adapter and on a broken one; every spec runs in
// exactly one shard and is other-shard in the others.
func TestShardsMergeToTheUnshardedRun(t *testing.T) {
	for _, target := range []string{"builtin:good-fetch", "builtin:broken-b12-notfound-200"} {
		t.Run(target, func(t *testing.T) {
			tmp := t.TempDir()
			full := filepath.Join(tmp, "full")
			fullCode, fullOut := runCLI(t, "--target", target, "--report-dir", full)
			var shardDirs []string
			ranIn := map[specKey][]int{}
			for i := 1; i <= 3; i++ {
				dir := filepath.Join(tmp, "shard"+itoa(i))
				shardDirs = append(shardDirs, dir)
				code, out := runCLI(t, "--target", target, "--shard", itoa(i)+"/3", "--report-dir", dir)
				if code == exitCannotRun {
					t.Fatalf("shard %d/3: exit %d\n%s", i, code, out)
				}
				r := readReport(t, dir)
				if r.Shard == nil || *r.Shard != (suite.ShardSpec{Index: i, Count: 3}) {
					t.Fatalf("shard %d/3's report says shard %v", i, r.Shard)
				}
				if r.Summary.OtherShard == 0 && !strings.Contains(out, "other shard") {
					t.Logf("shard %d/3 has no requirement wholly in other shards", i)
				}
				for _, q := range r.Requirements {
					for _, s := range q.Specs {
						k := specKey{q.ID, s.Spec, s.Fixture, s.Shape}
						if s.Result != reports.OtherShard {
							ranIn[k] = append(ranIn[k], i)
						} else if _, ok := ranIn[k]; !ok {
							ranIn[k] = nil
						}
					}
				}
			}
			whole := readReport(t, full)
			n := 0
			for _, q := range whole.Requirements {
				for _, s := range q.Specs {
					n++
					if k := (specKey{q.ID, s.Spec, s.Fixture, s.Shape}); len(ranIn[k]) != 1 {
						t.Errorf("%s %q (%s, %s) ran in shards %v, want exactly one", q.ID, s.Spec, s.Fixture, s.Shape, ranIn[k])
					}
				}
			}
			if n == 0 || len(ranIn) != n {
				t.Errorf("the shards name %d specs, the unsharded run %d", len(ranIn), n)
			}

			merged := filepath.Join(tmp, "merged")
			var out, errOut bytes.Buffer
			code := run(append(append([]string{"report", "merge"}, shardDirs...), "--out", merged), &out, &errOut)
			if code != fullCode {
				t.Errorf("merge exit %d, unsharded run exit %d\n%s%s", code, fullCode, out.String(), errOut.String())
			}
			for _, f := range []string{reports.JSONFile, reports.JUnitFile, reports.HTMLFile, reports.MarkdownFile} {
				if _, err := os.Stat(filepath.Join(merged, f)); err != nil {
					t.Error(err)
				}
			}
			m := readReport(t, merged)
			if m.Summary != whole.Summary {
				t.Errorf("summary: merged %+v, unsharded %+v", m.Summary, whole.Summary)
			}
			ja, _ := json.Marshal(comparable(whole))
			jb, _ := json.Marshal(comparable(m))
			if !bytes.Equal(ja, jb) {
				t.Errorf("the merged report differs from the unsharded run's beyond times, durations and captures:\nunsharded %s\nmerged    %s", ja, jb)
			}
			if a, b := countsLine.FindString(fullOut), countsLine.FindString(out.String()); a == "" || a != b {
				t.Errorf("counts line: unsharded %q, merged %q", a, b)
			}
			if whole.Summary.Failed > 0 && !strings.Contains(out.String(), "rerun: adapter-conformance run --target "+target+" --focus ") {
				t.Errorf("the merge does not print the rerun commands:\n%s", out.String())
			}
		})
	}
}

// TestLibraryShardsMerge: suite.Shard splits a Go test's run the same way;
// its shards' report files merge into the unsharded library run's.
func TestLibraryShardsMerge(t *testing.T) {
	const target = "builtin:broken-b10-last-header-wins"
	tmp := t.TempDir()
	whole := filepath.Join(tmp, "whole")
	g := runLibrary(t, target, whole)
	var shards []*reports.Report
	for i := 1; i <= 3; i++ {
		dir := filepath.Join(tmp, "shard"+itoa(i))
		runLibrary(t, target, dir, suite.Shard(i, 3))
		shards = append(shards, readReport(t, dir))
	}
	m, err := reports.Merge(shards)
	if err != nil {
		t.Fatal(err)
	}
	w := readReport(t, whole)
	if (w.Summary.Verdict == reports.VerdictFail) != g.failed || m.Summary != w.Summary {
		t.Errorf("summary: merged %+v, unsharded %+v (test failed: %v)", m.Summary, w.Summary, g.failed)
	}
	ja, _ := json.Marshal(comparable(w))
	jb, _ := json.Marshal(comparable(m))
	if !bytes.Equal(ja, jb) {
		t.Errorf("merged library shards differ:\nunsharded %s\nmerged    %s", ja, jb)
	}
	if _, err := suite.Run(&gateT{}, builtinTargets()["good-fetch"], suite.Quiet(), suite.Shard(4, 3)); err == nil || !strings.Contains(err.Error(), "4/3") {
		t.Errorf("suite.Shard(4, 3): %v, want an error", err)
	}
}

// TestShardAndReportUsage: what --shard and report refuse.
func TestShardAndReportUsage(t *testing.T) {
	tmp := t.TempDir()
	one := filepath.Join(tmp, "one")
	if code, out := runCLI(t, "--target", "builtin:good-fetch", "--fixture", "basic", "--shard", "1/2", "--report-dir", one); code != exitPass {
		t.Fatalf("shard 1/2: exit %d\n%s", code, out)
	}
	unsharded := filepath.Join(tmp, "unsharded")
	if code, out := runCLI(t, "--target", "builtin:good-fetch", "--fixture", "basic", "--focus", "NOTFOUND-1", "--report-dir", unsharded); code != exitPass {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"shard 0", []string{"run", "--target", "builtin:good-fetch", "--shard", "0/3"}, "--shard"},
		{"shard past n", []string{"run", "--target", "builtin:good-fetch", "--shard", "4/3"}, "1 <= i <= n"},
		{"shard not i/n", []string{"run", "--target", "builtin:good-fetch", "--shard", "half"}, "want i/n"},
		{"report alone", []string{"report"}, "report merge DIR"},
		{"merge without --out", []string{"report", "merge", one}, "--out"},
		{"a shard missing", []string{"report", "merge", one, "--out", filepath.Join(tmp, "m1")}, "2/2 missing"},
		{"not a shard", []string{"report", "merge", one, unsharded, "--out", filepath.Join(tmp, "m2")}, "is not a shard's"},
		{"no such report", []string{"report", "merge", filepath.Join(tmp, "nope"), "--out", filepath.Join(tmp, "m3")}, "no such file"},
		{"diff of one", []string{"report", "diff", one}, "report diff OLD NEW"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(c.args, &out, &errOut); code != exitCannotRun || !strings.Contains(errOut.String(), c.want) {
				t.Errorf("exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", code, exitCannotRun, c.want, out.String(), errOut.String())
			}
		})
	}
}

// TestReportDiffCLI: report diff says what newly fails (with its rerun
// command) and what newly passes, as Markdown.
func TestReportDiffCLI(t *testing.T) {
	tmp := t.TempDir()
	good, broken := filepath.Join(tmp, "good"), filepath.Join(tmp, "broken")
	runCLI(t, "--target", "builtin:good-fetch", "--fixture", "basic", "--report-dir", good)
	runCLI(t, "--target", "builtin:broken-b12-notfound-200", "--fixture", "basic", "--report-dir", broken)
	diff := func(old, new string) string {
		var out, errOut bytes.Buffer
		if code := run([]string{"report", "diff", old, filepath.Join(new, reports.JSONFile)}, &out, &errOut); code != exitPass {
			t.Fatalf("report diff: exit %d\n%s", code, errOut.String())
		}
		return out.String()
	}
	worse := diff(good, broken)
	for _, want := range []string{"### Newly failing", "| NOTFOUND-1 | MUST | passed | failed |", "```sh\n", "adapter-conformance run --target builtin:broken-b12-notfound-200 --fixture basic --focus NOTFOUND-1"} {
		if !strings.Contains(worse, want) {
			t.Errorf("good → broken lacks %q:\n%s", want, worse)
		}
	}
	if strings.Contains(worse, "### Newly passing") {
		t.Errorf("good → broken: something newly passes:\n%s", worse)
	}
	better := diff(broken, good)
	if !strings.Contains(better, "### Newly passing") || !strings.Contains(better, "| NOTFOUND-1 | MUST | failed |") || strings.Contains(better, "### Newly failing") {
		t.Errorf("broken → good:\n%s", better)
	}
}

// TestCountsAgreeEverywhere: the terminal's counts line, summary.md and
// report.html show the same counts; requirements --focus leaves out are
// not run (not skipped), retired ones retired.
func TestCountsAgreeEverywhere(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "r")
	code, out := runCLI(t, "--target", "builtin:good-fetch", "--fixture", "basic", "--focus", "NOTFOUND-1", "--report-dir", dir)
	if code != exitPass {
		t.Fatalf("exit %d\n%s", code, out)
	}
	r := readReport(t, dir)
	s := r.Summary
	if s.Passed != 1 || s.Skipped != 0 || s.Retired == 0 || s.NotRun != s.Total-1-s.Retired {
		t.Errorf("summary %+v: want 1 passed, the rest not run or retired, nothing skipped", s)
	}
	line := countsLine.FindString(out)
	if line != r.CountsLine() {
		t.Fatalf("terminal counts %q, report's %q", line, r.CountsLine())
	}
	md, err := os.ReadFile(filepath.Join(dir, reports.MarkdownFile))
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, reports.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	_, list, _ := strings.Cut(line, ": ")
	for _, part := range strings.Split(list, ", ") {
		n, label, _ := strings.Cut(part, " ")
		if row := "| " + label + " | " + n + " |"; !strings.Contains(string(md), row) {
			t.Errorf("summary.md lacks %q (terminal: %s)", row, line)
		}
		if span := ">" + n + " " + label + "</span>"; !strings.Contains(string(page), span) {
			t.Errorf("report.html lacks %q (terminal: %s)", span, line)
		}
	}
	if !strings.Contains(line, itoa(s.Retired)+" retired") || !strings.Contains(line, itoa(s.NotRun)+" not run") {
		t.Errorf("counts line %q: want retired and not run counted apart", line)
	}
}

// TestRerunHintRepeatsInvocation: the rerun command starts the kit as it
// was started: "go run" again under go run (its binary is gone after), the
// binary as named otherwise.
func TestRerunHintRepeatsInvocation(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := t.TempDir()
	for _, c := range []struct{ arg0, wd, version, want string }{
		{"/tmp/go-build1234567/b001/exe/adapter-conformance", root, "", "go run ./cmd/adapter-conformance"},
		// In a module that requires the kit (an adapter's).
		{"/tmp/go-build1234567/b001/exe/adapter-conformance", elsewhere, "", "go run github.com/adapterconformance/adapter-conformance/cmd/adapter-conformance"},
		// go run ...@v1.2.3, anywhere.
		{"/tmp/go-build1234567/b001/exe/adapter-conformance", elsewhere, "v1.2.3", "go run github.com/adapterconformance/adapter-conformance/cmd/adapter-conformance@v1.2.3"},
		// Go 1.24 and later run the command from the build cache.
		{"/root/.cache/go-build/8c/8c8fe66861d342fec32f34ff71a9437c5ee13fcd35b2caa63d98f16cce48faf6-d/adapter-conformance", root, "", "go run ./cmd/adapter-conformance"},
		{"adapter-conformance", root, "v1.2.3", "adapter-conformance"},
		{"./bin/adapter-conformance", root, "", "./bin/adapter-conformance"},
		{"/opt/my tools/adapter-conformance", root, "", "'/opt/my tools/adapter-conformance'"},
		// A test binary is built in go-build too, but not by go run.
		{"/tmp/go-build1234567/b001/adapter-conformance.test", root, "", "/tmp/go-build1234567/b001/adapter-conformance.test"},
	} {
		if got := invocation(c.arg0, c.wd, c.version); got != c.want {
			t.Errorf("invocation(%q, %q, %q) = %q, want %q", c.arg0, c.wd, c.version, got, c.want)
		}
	}
	if testing.Short() {
		t.Skip("-short: not building the kit with go run")
	}
	// The real thing: go run from the module root.
	dir := filepath.Join(t.TempDir(), "r")
	cmd := exec.Command("go", "run", "./cmd/adapter-conformance", "run", "--target", "builtin:broken-b12-notfound-200", "--fixture", "basic", "--focus", "NOTFOUND-1", "--report-dir", dir)
	cmd.Dir = root
	out, _ := cmd.CombinedOutput()
	want := "go run ./cmd/adapter-conformance run --target builtin:broken-b12-notfound-200 --fixture basic --focus NOTFOUND-1"
	if !strings.Contains(string(out), "rerun: "+want) {
		t.Errorf("go run: the rerun hint is not %q:\n%s", want, out)
	}
	md, err := os.ReadFile(filepath.Join(dir, reports.MarkdownFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), want) {
		t.Errorf("summary.md's rerun command is not %q:\n%s", want, md)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
