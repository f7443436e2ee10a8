package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/adapterconformance/adapter-conformance/reports"
	"github.com/adapterconformance/adapter-conformance/runner/container"
)

func TestExitCodes(t *testing.T) {
	for _, c := range []struct {
		name   string
		args   []string
		code   int
		output string // in stdout or stderr
	}{
		{"good adapter passes", []string{"run", "--target", "builtin:good-fetch", "--fixture", "basic"}, exitPass, "0 failed"},
		{"broken adapter fails", []string{"run", "--target", "builtin:broken-b12-notfound-200", "--fixture", "basic", "--focus", "NOTFOUND-1"}, exitFail, "rerun: adapter-conformance run --target builtin:broken-b12-notfound-200 --fixture basic --focus NOTFOUND-1"},
		// b31 fails only LAMBDA-7, a SHOULD: a warning, unless --strict.
		{"broken SHOULD warns", []string{"run", "--target", "builtin:broken-b31-lambda-text-as-base64", "--fixture", "basic", "--focus", "LAMBDA-6", "--focus", "LAMBDA-7"}, exitPass, "warning: 1 SHOULD requirement(s) failed (LAMBDA-7)"},
		{"broken SHOULD fails strict", []string{"run", "--strict", "--target", "builtin:broken-b31-lambda-text-as-base64", "--fixture", "basic", "--focus", "LAMBDA-6", "--focus", "LAMBDA-7"}, exitFail, "rerun: adapter-conformance run --target builtin:broken-b31-lambda-text-as-base64 --fixture basic --focus LAMBDA-7"},
		// A differential failure names its seed, and its rerun command keeps it.
		{"diff failure names its seed", []string{"run", "--target", "builtin:broken-b11-last-header-value", "--fixture", "basic", "--focus", "DIFF-2", "--seed", "7"}, exitFail, "rerun: adapter-conformance run --target builtin:broken-b11-last-header-value --fixture basic --seed 7 --focus DIFF-2"},
		{"bad timeouts", []string{"run", "--target", "builtin:good-fetch", "--timeouts", "readyness=1s"}, exitCannotRun, "--timeouts: "},
		{"bad corpus", []string{"run", "--target", "builtin:good-fetch", "--corpus", "0"}, exitCannotRun, "--corpus must be positive"},
		{"no target", []string{"run"}, exitCannotRun, "--target is required"},
		{"missing target path", []string{"run", "--target", "./does-not-exist", "--mode", "binary"}, exitCannotRun, "does-not-exist"},
		{"mistyped directory", []string{"run", "--target", "../../fixtures/adapters/good/standalon"}, exitCannotRun, "standalon does not exist"},
		{"help for run", []string{"run", "--help"}, exitPass, "-report-dir"},
		{"good binary passes", []string{"run", "--target", "../../fixtures/adapters/good/standalone", "--fixture", "basic"}, exitPass, "binary target"},
		{"bad mode", []string{"run", "--target", "builtin:good-fetch", "--mode", "teleport"}, exitCannotRun, "--mode"},
		{"builtin in binary mode", []string{"run", "--target", "builtin:good-fetch", "--mode", "binary"}, exitCannotRun, "in-process"},
		{"unreachable URL", []string{"run", "--target", "http://127.0.0.1:1"}, exitCannotRun, "the deployment at http://127.0.0.1:1 did not answer HTTP"},
		{"unknown builtin", []string{"run", "--target", "builtin:nope"}, exitCannotRun, "unknown built-in target"},
		{"unknown fixture", []string{"run", "--target", "builtin:good-fetch", "--fixture", "nope"}, exitCannotRun, "not a known fixture"},
		{"unknown requirement", []string{"run", "--target", "builtin:good-fetch", "--focus", "NOPE-1"}, exitCannotRun, "no such requirement"},
		{"bad flag", []string{"run", "--frobnicate"}, exitCannotRun, "frobnicate"},
		{"bad label filter", []string{"run", "--target", "builtin:good-fetch", "--label-filter", "(("}, exitCannotRun, "--label-filter"},
		{"filter selects nothing", []string{"run", "--target", "builtin:good-fetch", "--fixture", "basic", "--label-filter", "area:nothing-here"}, exitCannotRun, "no requirement was checked"},
		{"stray argument", []string{"run", "--target", "builtin:good-fetch", "basic", "--focus", "HTTP-1"}, exitCannotRun, `unexpected argument "basic"`},
		{"stray argument to list", []string{"list", "NOTFOUND"}, exitCannotRun, `unexpected argument "NOTFOUND"`},
		{"stray argument to version", []string{"version", "--json"}, exitCannotRun, "version takes no arguments"},
		{"unknown command", []string{"frobnicate"}, exitCannotRun, "unknown command"},
		{"list", []string{"list", "--area", "NOTFOUND"}, exitPass, "NOTFOUND-1"},
		{"version", []string{"version"}, exitPass, "adapter-conformance"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := c.args
			reportDir := filepath.Join(t.TempDir(), "report")
			if args[0] == "run" {
				args = append(args, "--report-dir", reportDir)
			}
			code := run(args, &out, &errOut)
			if code != c.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, out.String(), errOut.String())
			}
			if !strings.Contains(out.String()+errOut.String(), c.output) {
				t.Errorf("output lacks %q\nstdout:\n%s\nstderr:\n%s", c.output, out.String(), errOut.String())
			}
			if strings.Contains(errOut.String(), "adapter-conformance: ") && code == exitPass {
				t.Errorf("an error line on a successful exit:\n%s", errOut.String())
			}
			if args[0] != "run" || c.name == "bad flag" || c.name == "stray argument" || c.name == "help for run" {
				// The flags were not read, --report-dir included.
				return
			}
			// Reports are written whether the adapter passed, failed or
			// could not be run; a run that checked nothing is not a pass.
			r, err := reports.Read(filepath.Join(reportDir, reports.JSONFile))
			if err != nil {
				t.Fatalf("report: %v", err)
			}
			want := map[int]string{exitPass: reports.VerdictPass, exitFail: reports.VerdictFail, exitCannotRun: reports.VerdictInconclusive}[code]
			if r.Summary.Verdict != want {
				t.Errorf("report verdict %q, want %q", r.Summary.Verdict, want)
			}
			if code == exitCannotRun && c.name != "filter selects nothing" && !strings.Contains(r.RunError, c.output) {
				t.Errorf("report runError %q lacks %q", r.RunError, c.output)
			}
			for _, f := range []string{reports.JUnitFile, reports.HTMLFile, reports.MarkdownFile} {
				if _, err := os.Stat(filepath.Join(reportDir, f)); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestTimeoutsFlagReachesTheTarget: --timeouts sets the target's waits,
// and the failure says the wait it was given (runner.Timeouts).
func TestTimeoutsFlagReachesTheTarget(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "report")
	var out, errOut bytes.Buffer
	code := run([]string{"run", "--target", "builtin:broken-start-ignores-listener", "--fixture", "basic", "--focus", "START-2",
		"--timeouts", "readiness=1s", "--report-dir", dir}, &out, &errOut)
	if code != exitFail {
		t.Fatalf("exit %d, want %d\n%s", code, exitFail, errOut.String())
	}
	r, err := reports.Read(filepath.Join(dir, reports.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range r.Requirements {
		if req.ID != "START-2" {
			continue
		}
		for _, s := range req.Specs {
			if strings.Contains(s.Message, "an HTTP answer within 1s of Start being called") {
				return
			}
		}
		t.Fatalf("START-2's messages do not name the 1s readiness time: %+v", req.Specs)
	}
	t.Fatal("no START-2 in the report")
}

func TestFixturesExport(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := run([]string{"fixtures", "export", dir}, &out, &errOut); code != exitPass {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "basic", "manifest.json")); err != nil {
		t.Fatal(err)
	}
}

func TestBrokenBuildCannotRun(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module broken\n\ngo 1.26\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() { undefined() }\n"), 0o644)
	var out, errOut bytes.Buffer
	reportDir := filepath.Join(t.TempDir(), "report")
	code := run([]string{"run", "--target", dir, "--report-dir", reportDir}, &out, &errOut)
	if code != exitCannotRun || !strings.Contains(errOut.String(), "building") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut.String())
	}
	// The build log reaches every report, and a CI dashboard reading the
	// JUnit file sees an error, not a column of skipped requirements.
	r, err := reports.Read(filepath.Join(reportDir, reports.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Verdict != reports.VerdictInconclusive || !strings.Contains(r.RunError, "undefined: undefined") {
		t.Errorf("report verdict %q, runError %q", r.Summary.Verdict, r.RunError)
	}
	for file, want := range map[string]string{
		reports.JUnitFile:    `errors="1"`,
		reports.MarkdownFile: "undefined: undefined",
		reports.HTMLFile:     "undefined: undefined",
	} {
		b, err := os.ReadFile(filepath.Join(reportDir, file))
		if err != nil || !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %q (%v)", file, want, err)
		}
	}
}

func TestMalformedFixtureCannotRun(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"run", "--target", "builtin:good-fetch", "--fixture", "../../fixtures/testdata/broken", "--report-dir", ""}, &out, &errOut)
	if code != exitCannotRun || !strings.Contains(errOut.String(), "manifest.json") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut.String())
	}
}

func TestContainerMode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an image")
	}
	container.ConfigureTestcontainers()
	if err := container.DockerAvailable(context.Background()); err != nil {
		t.Skipf("no container engine: %v", err)
	}
	for _, c := range []struct {
		args []string
		code int
	}{
		// Without the image cache: the test leaves no image behind
		// (TestContainerImageCache runs with it).
		{[]string{"run", "--target", "../../fixtures/adapters/good/standalone", "--mode", "container", "--fixture", "basic", "--no-image-cache"}, exitPass},
		{[]string{"run", "--target", "no-such-image-or-dir", "--mode", "container"}, exitCannotRun},
	} {
		var out, errOut bytes.Buffer
		if code := run(append(c.args, "--report-dir", ""), &out, &errOut); code != c.code {
			t.Errorf("%v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", c.args, code, c.code, out.String(), errOut.String())
		}
		if c.code == exitPass && !strings.Contains(errOut.String(), "image: cold build in ") {
			t.Errorf("%v: the run does not say its image was a cold build:\n%s", c.args, errOut.String())
		}
	}
	if left, err := container.OwnContainers(context.Background()); err != nil || len(left) > 0 {
		t.Errorf("containers left behind: %v %v", left, err)
	}
}

// TestReportDirIsClaimedFirst: a report directory that cannot be written,
// or that another run holds, stops the run before anything starts (exit 2,
// a message naming the problem), instead of losing the results at the end.
func TestReportDirIsClaimedFirst(t *testing.T) {
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"run", "--target", "builtin:good-fetch", "--report-dir", filepath.Join(notADir, "report")}, &out, &errOut); code != exitCannotRun ||
		!strings.Contains(errOut.String(), "cannot be created") || strings.Contains(out.String()+errOut.String(), "target builtin:good-fetch") {
		t.Errorf("unwritable report dir: exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}

	dir := filepath.Join(t.TempDir(), "report")
	release, err := reports.Claim(dir)
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errOut.Reset()
	if code := run([]string{"run", "--target", "builtin:good-fetch", "--report-dir", dir}, &out, &errOut); code != exitCannotRun || !strings.Contains(errOut.String(), "in use by another run") {
		t.Errorf("report dir in use: exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	release()
	out.Reset()
	errOut.Reset()
	if code := run([]string{"run", "--target", "builtin:good-fetch", "--fixture", "basic", "--focus", "RENDER-1", "--report-dir", dir}, &out, &errOut); code != exitPass {
		t.Errorf("once released: exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	if _, err := os.Stat(filepath.Join(dir, reports.LockFile)); !os.IsNotExist(err) {
		t.Errorf("the lock file is left after the run: %v", err)
	}
}

// TestTimeoutDuringBuildIsIncomplete: a --timeout that runs out while the
// target is built is a run cut short, said in --timeout's words, not a
// broken target, and no spec gets a last-second floor beyond the limit.
func TestTimeoutDuringBuildIsIncomplete(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a target")
	}
	dir := filepath.Join(t.TempDir(), "report")
	var out, errOut bytes.Buffer
	code := run([]string{"run", "--target", "../../fixtures/adapters/good/standalone", "--timeout", "50ms", "--report-dir", dir}, &out, &errOut)
	if code != exitCannotRun {
		t.Errorf("exit %d, want %d\nstderr:\n%s", code, exitCannotRun, errOut.String())
	}
	r, err := reports.Read(filepath.Join(dir, reports.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Incomplete, "--timeout 50ms ran out") || r.Summary.Verdict != reports.VerdictInconclusive || r.Summary.Passed != 0 {
		t.Errorf("incomplete %q, summary %+v", r.Incomplete, r.Summary)
	}
}

// TestContainerImageCache: a second CLI run of an unchanged Dockerfile
// directory reuses the image the first one built and says so, while the
// first says it was a cold build; the cached image is removed at the end.
func TestContainerImageCache(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an image")
	}
	container.ConfigureTestcontainers()
	if err := container.DockerAvailable(context.Background()); err != nil {
		t.Skipf("no container engine: %v", err)
	}
	// A Dockerfile directory of its own (its base name is the target's
	// name, the cache's key with the context), holding a prebuilt adapter.
	dir := filepath.Join(t.TempDir(), "image-cache-"+strconv.Itoa(os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "adapter"), "../../fixtures/adapters/good/standalone/cmd/standalone-adapter")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the adapter: %v\n%s", err, out)
	}
	dockerfile := "FROM scratch\nCOPY adapter /adapter\nEXPOSE 8080\nENTRYPOINT [\"/adapter\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if n, err := container.RemoveCachedImages(context.Background(), filepath.Base(dir)); err != nil || n != 1 {
			t.Errorf("RemoveCachedImages = %d, %v; want the one cached image", n, err)
		}
	})
	for i, want := range []string{"image: cold build in ", "image: reused from the image cache"} {
		var out, errOut bytes.Buffer
		if code := run([]string{"run", "--target", dir, "--fixture", "basic", "--focus", "START-1", "--report-dir", ""}, &out, &errOut); code != exitPass {
			t.Fatalf("run %d: exit %d\nstdout:\n%s\nstderr:\n%s", i+1, code, out.String(), errOut.String())
		}
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("run %d does not say %q:\n%s", i+1, want, errOut.String())
		}
	}
	if left, err := container.OwnContainers(context.Background()); err != nil || len(left) > 0 {
		t.Errorf("containers left behind: %v %v", left, err)
	}
}
