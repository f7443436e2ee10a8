package suite_test

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/runner/executable"
	"github.com/adapterconformance/adapter-conformance/runner/ownership"
	"github.com/adapterconformance/adapter-conformance/suite"
)

func adapterDir(parts ...string) string {
	return filepath.Join(append([]string{"..", "fixtures", "adapters"}, parts...)...)
}

// expectAllPass runs the suite on a good adapter and fails the test with
// every failure message when any requirement fails. It returns the results
// for checks of what passed.
func expectAllPass(t *testing.T, target runner.Target, fixtureNames ...string) *suite.Results {
	t.Helper()
	res, err := suite.Run(nil, target, suite.Quiet(), suite.Fixtures(fixtureNames...))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range res.Failed() {
		for _, msg := range res.Messages(id) {
			t.Errorf("%s failed:\n%s", id, msg)
		}
	}
	if len(res.Passed()) == 0 {
		t.Fatal("nothing passed: the suite did not run")
	}
	return res
}

// expectNoLeftovers fails when any process the kit started is still alive.
// A group the kit has just killed can take a moment to be reaped on a busy
// machine, so it polls for up to 5 s; a process that was never stopped
// outlives that.
func expectNoLeftovers(t *testing.T) {
	t.Helper()
	left := ownership.Leftovers()
	for deadline := time.Now().Add(5 * time.Second); len(left) > 0 && time.Now().Before(deadline); left = ownership.Leftovers() {
		time.Sleep(50 * time.Millisecond)
	}
	if len(left) > 0 {
		t.Errorf("process groups left running: %v", left)
	}
}

func TestGoodAdaptersAsBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs every good adapter as a process")
	}
	eachInChild(t, []string{"standalone", "handler", "fetch"}, func(t *testing.T, name string) {
		expectAllPass(t, runner.Binary(adapterDir("good", name), runner.WithName("good-"+name)), "basic", "no-404", "base-app")
		expectNoLeftovers(t)
	})
}

// wantFailedAsBinary is what each broken adapter fails when run as a
// process (basic fixture): the process-level bugs, and a few of the
// in-process ones whose bug shows over HTTP too, the differential corpus
// (DIFF-1..4) included, which the kit compares with its own App's answer.
var wantFailedAsBinary = map[string][]string{
	"b04-lambda-v2-cookies-in-headers": {"HTTP-8", "HTTP-9", "LAMBDA-1", "RENDER-2", "DIFF-4"}, // DIFF-4: the cookie routes' plain requests
	"b23-lambda-base64-body-kept":      {"HTTP-11", "HTTP-12", "LAMBDA-5", "DIFF-1"},           // DIFF-1: a body
	// Under the Runtime API, lambda.Start reports the panic on /error and
	// exits: a crash, then a cold start for the next invocation.
	"b40-lambda-panics-on-utf8-header": {"LAMBDA-18"},
	// Response streaming through the Runtime API: a stream buffered before
	// it is posted (B35), and one whose prelude drops the cookies (B06).
	"b35-lambda-furl-stream-buffered":      {"LAMBDA-15"},
	"b06-lambda-furl-stream-drops-cookies": {"HTTP-21", "HTTP-8", "HTTP-9", "LAMBDA-1", "LAMBDA-15", "RENDER-2", "DIFF-4"}, // DIFF-4: the cookie routes' plain requests
	// The gateway facts (aws-gateway-facts.md) through the Runtime API.
	"lambda-v2-question-as-query":    {"LAMBDA-17"},
	"lambda-v2-rejects-decoded-path": {"LAMBDA-16", "LAMBDA-17", "RENDER-16", "RENDER-4"},
	"b43-lambda-furl-double-encoded": {"HTTP-2", "LAMBDA-9", "DIFF-3"}, // DIFF-3: percent-encoded paths, the café ones too; an unrouted method on a percent-encoded letter, whose 404 page shows the mangled path, is DIFF-3 too: any method the route lacks shows it, only the encoded paths do
	"b47-lambda-v1-stage-stripped":   {"LAMBDA-10"},
	"b09-lambda-furl-cookies-twice":  {"LAMBDA-3", "DIFF-2"}, // DIFF-2: several Cookie lines
	"process-crashes-on-error":       {"PROC-6", "RENDER-2"},
	"process-ignores-sigterm":        {"START-4", "START-5"},
	"process-never-ready":            {"START-1", "START-2", "START-6"},
	"process-binds-localhost":        {"START-1", "START-2", "START-6"},
	// Listening where told but never answering, or answering bytes that
	// are not HTTP: no HTTP answer within the readiness time (START-2), so
	// no index page (START-1) and no answer on the address given in HOST
	// (START-6: the kit's evidence of the bind is an HTTP answer); every
	// other spec cannot be checked and says it follows from START-2.
	"process-hangs":          {"START-1", "START-2", "START-6"},
	"process-writes-garbage": {"START-1", "START-2", "START-6"},
	"process-writes-cwd":     {"PROC-7"},
	"process-leaves-child":   {"PROC-8"},
	// --describe fails, or prints 2 MiB: only PROC-1 fails; the
	// declaration specs cannot be checked, and say so.
	"process-describe-fails":      {"PROC-1"},
	"process-describe-floods":     {"PROC-1"},
	"process-ignores-app-dir":     {"PROC-2", "START-3", "START-5"},
	"b12-notfound-200":            {"ERROR-6", "MATCH-6", "NOTFOUND-1", "NOTFOUND-4", "NOTFOUND-5", "NOTFOUND-6", "NOTFOUND-7", "PROC-2", "RENDER-2", "DIFF-3", "DIFF-4", "DIFF-1"}, // DIFF-3: a path variant that is a 404; DIFF-4: /page-null-404; DIFF-1: PUT to /api/echo
	"b01-cookies-folded":          {"HTTP-8", "HTTP-9", "RENDER-2", "DIFF-4"},                                                                                                       // DIFF-4: the cookie routes' plain requests
	"b17-panics-on-error":         {"ERROR-1", "ERROR-2", "ERROR-5", "RENDER-2", "DIFF-3", "DIFF-4"},                                                                                // DIFF: the throwing routes, plain and via a path variant
	"b35-buffered-stream":         {"HTTP-16"},
	"b52-hard-close":              {"START-3"},
	"start-returns-server-closed": {"START-5"},
	// Header blind spots (issue 13), through the Runtime API and over HTTP.
	"lambda-v2-lone-cookie-twice": {"HTTP-21", "RENDER-2", "DIFF-4"}, // DIFF-4: /api/cookie-one's plain request
	"b11-lambda-v2-header-split":  {"LAMBDA-4", "DIFF-2"},            // DIFF-2: the value with commas
	"no-content-type-made-up":     {"RENDER-14"},
	// Astro's origin check (issue 14), over HTTP and through the Runtime API.
	"b49-wrong-scheme":                   {"HTTP-1", "HTTP-22", "HTTP-5", "HTTP-6", "RENDER-7", "DIFF-1", "DIFF-4"}, // DIFF-1: unsafe methods' origin check (403); DIFF-4: every route's plain request, whose URL has the wrong scheme
	"origin-forged":                      {"HTTP-23"},
	"b49-lambda-ignores-forwarded-proto": {"HTTP-22", "LAMBDA-19", "LAMBDA-5", "RENDER-7", "DIFF-1", "DIFF-4"}, // DIFF-1: every same-origin form POST gets 403; DIFF-4: every route's plain request, whose URL says http
	// Blind spots (issue 14) seen from outside the process: the client's
	// disconnect never reaches the App (its stream-state stays
	// "streaming"), and a 1 s deadline cuts HTTP-16's 1.2 s stream.
	"b29-detached-context": {"ROBUST-9"},
	"stream-cut-after-1s":  {"HTTP-16"},
	// The differential corpus (DIFF-1..4) runs out of process too, the
	// kit rendering the App itself: the control that differs from the App
	// in the framing of a body alone.
	"chunked-body-lost": {"DIFF-1"},
}

// wantInLogs is the line of a broken adapter's output that a failure's
// report must show: the crash message that comes after megabytes of logs.
var wantInLogs = map[string]string{
	"process-crashes-on-error": "unhandled error in /api/throws: exiting",
}

// expectLogsShow checks that every failed spec carries the adapter's output
// with that line, in a bounded excerpt (not the whole log once per failure).
func expectLogsShow(t *testing.T, res *suite.Results, line string) {
	t.Helper()
	for _, o := range res.Outcomes {
		if o.State != "failed" {
			continue
		}
		if !strings.Contains(o.Logs, line) {
			t.Errorf("%s: the logs attached to the failure lack %q (%d bytes, ending %q)", o.Spec, line, len(o.Logs), o.Logs[max(0, len(o.Logs)-200):])
		}
		if len(o.Logs) > 40<<10 {
			t.Errorf("%s: %d bytes of logs attached to one failure", o.Spec, len(o.Logs))
		}
	}
}

func TestBrokenAdaptersAsBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite once per broken adapter process")
	}
	eachInChild(t, slices.Sorted(maps.Keys(wantFailedAsBinary)), func(t *testing.T, name string) {
		want := wantFailedAsBinary[name]
		target := runner.Binary(adapterDir("broken"), runner.WithName(name), runner.WithEnv("BROKEN_ADAPTER="+name),
			runner.WithReadinessTimeout(2*time.Second), runner.WithGracePeriod(2*time.Second))
		res, err := suite.Run(nil, target, suite.Quiet(), suite.Fixtures("basic"))
		if err != nil {
			t.Fatal(err)
		}
		got := res.Failed()
		if !slices.Equal(got, slices.Sorted(slices.Values(want))) {
			t.Errorf("%s as a binary failed %q, want %q", name, got, want)
		}
		if line, ok := wantInLogs[name]; ok {
			expectLogsShow(t, res, line)
		}
		expectNoLeftovers(t)
	})
}

// TestUnbuildableTargetStopsTheRun: a target that does not build is one
// error naming the build, before any spec runs, not a start failure in
// every fixture; and a build is bounded by the run's timeout.
func TestUnbuildableTargetStopsTheRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	broken := t.TempDir()
	os.WriteFile(filepath.Join(broken, "go.mod"), []byte("module broken\n\ngo 1.26\n"), 0o644)
	os.WriteFile(filepath.Join(broken, "main.go"), []byte("package main\n\nfunc main() { undefined() }\n"), 0o644)
	for _, c := range []struct {
		name   string
		target runner.Target
		opts   []suite.Option
		want   string
	}{
		{"compile error", runner.Binary(broken), nil, "undefined"},
		{"build outlives the run's timeout", runner.Binary(adapterDir("good", "standalone")), []suite.Option{suite.Timeout(time.Millisecond)}, "stopped before it finished"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := suite.Run(nil, c.target, append(c.opts, suite.Quiet())...)
			var be *executable.BuildError
			if !errors.As(err, &be) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("suite.Run = %v, want a *executable.BuildError containing %q", err, c.want)
			}
			if res != nil {
				t.Errorf("specs ran for a target that did not build: %d outcomes", len(res.Outcomes))
			}
			expectNoLeftovers(t)
		})
	}
}

// TestCutShortRunStopsItsAdapter: a run whose time runs out mid-spec
// (--timeout, a go test deadline) stops the adapter process and removes
// its directories although ginkgo skips the fixture's own cleanup, and
// blames the clock, not the adapter: the spec it cut is skipped, the run
// is marked cut short, and a good adapter fails nothing.
func TestCutShortRunStopsItsAdapter(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs an adapter as a process")
	}
	// Every directory the kit makes for the run (the build, the exported
	// app, the adapter's working directory) lands here, so what is left
	// after the run is what leaked.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	// Built first, so that the 3 s are the specs' alone; the spec that
	// asks for /about is where they run out.
	target := runner.Binary(filepath.Join("testdata", "hanging-adapter"), runner.WithName("hanging-adapter"))
	if err := target.(runner.Preparer).Prepare(t.Context()); err != nil {
		t.Fatal(err)
	}
	res, err := suite.Run(nil, target, suite.Quiet(), suite.Fixtures("basic"), suite.Timeout(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.CutShort, "time limit") {
		t.Errorf("CutShort = %q, want the run's time limit named", res.CutShort)
	}
	for _, id := range res.Failed() {
		t.Errorf("%s failed, but the adapter is good and only the clock ran out:\n%s", id, strings.Join(res.Messages(id), "\n"))
	}
	notRun := 0
	for _, o := range res.Outcomes {
		if o.State == "skipped" && (strings.HasPrefix(o.Message, "not run: ") || strings.HasPrefix(o.Message, "not checked: the run was stopped")) {
			notRun++
		}
	}
	if notRun == 0 {
		t.Errorf("no spec says the run's end kept it from running (%d outcomes)", len(res.Outcomes))
	}
	expectNoLeftovers(t)
	left, _ := os.ReadDir(tmp)
	for _, e := range left {
		t.Errorf("left behind in the temporary directory: %s", e.Name())
	}
}

// TestEveryDeclaredLambdaShapeIsDriven: an executable declaring two Lambda
// shapes runs as a function behind each gateway, and each shape's specs
// run (a shape left undriven would read as "not applicable").
func TestEveryDeclaredLambdaShapeIsDriven(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs an adapter as a process")
	}
	target := runner.Binary(filepath.Join("testdata", "two-lambda-shapes"), runner.WithName("two-lambda-shapes"))
	res, err := suite.Run(nil, target, suite.Quiet(), suite.Fixtures("basic"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range res.Failed() {
		t.Errorf("%s failed:\n%s", id, strings.Join(res.Messages(id), "\n"))
	}
	passed := map[string]int{}
	for _, o := range res.Outcomes {
		if o.State == "passed" {
			passed[o.Shape]++
		}
	}
	if passed["lambda-v2"] == 0 || passed["function-url"] == 0 {
		t.Errorf("specs passed per shape: %v, want both declared Lambda shapes driven", passed)
	}
	expectNoLeftovers(t)
}

// TestHandwrittenAdapterPasses: an adapter written from README and SPEC.md
// alone, with its own main and a --describe envelope printed by hand, passes
// every requirement that applies to it as a binary.
func TestHandwrittenAdapterPasses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs an adapter process")
	}
	res, err := suite.Run(nil, runner.Binary(filepath.Join("testdata", "handwritten-adapter"), runner.WithName("handwritten")), suite.Quiet())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range res.Failed() {
		for _, msg := range res.Messages(id) {
			t.Errorf("%s failed:\n%s", id, msg)
		}
	}
	if len(res.Passed()) < 40 {
		t.Errorf("only %d requirements passed: %q", len(res.Passed()), res.Passed())
	}
	expectNoLeftovers(t)
}

// TestUnservableAdapterIsJudgedOnce (issue 19 item 4): an adapter that
// cannot be served is started for the first fixture only. That fixture
// fails the readiness requirements; every spec of the later fixtures is
// skipped as "cannot be checked" with the first fixture's reason, neither
// passed nor failed again. An adapter that ignores SIGTERM is served on
// every fixture, but is sent SIGTERM once (START-5's check on basic): the
// later fixtures' processes are killed without waiting out the grace period
// again. The adapter records each start and each SIGTERM it gets, so what
// the kit did is counted, not timed.
func TestUnservableAdapterIsJudgedOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs broken adapter processes on three fixtures")
	}
	// basic, the primary fixture, runs first and judges, although
	// "fixture base-app" sorts before "fixture basic".
	fixtureNames := []string{"basic", "no-404", "base-app"}
	for _, c := range []struct {
		name             string
		failed           []string
		starts, sigterms int
		laterSkipped     bool
	}{
		{"process-never-ready", []string{"START-1", "START-2", "START-6"}, 1, 0, true},
		{"process-hangs", []string{"START-1", "START-2", "START-6"}, 1, 0, true},
		{"process-writes-garbage", []string{"START-1", "START-2", "START-6"}, 1, 0, true},
		// Started for each fixture and once more for PROC-2's second app
		// on basic; SIGTERM goes to basic's own instance only (START-5
		// checks it): the second app's stop judges nothing and the later
		// fixtures' stops come after the verdict, so those are killed at once.
		{"process-ignores-sigterm", []string{"START-4", "START-5"}, 4, 1, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			events := filepath.Join(t.TempDir(), "events")
			target := runner.Binary(adapterDir("broken"), runner.WithName(c.name),
				runner.WithEnv("BROKEN_ADAPTER="+c.name, "BROKEN_ADAPTER_EVENTS="+events),
				runner.WithReadinessTimeout(2*time.Second), runner.WithGracePeriod(2*time.Second))
			res, err := suite.Run(nil, target, suite.Quiet(), suite.Fixtures(fixtureNames...))
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Failed(); !slices.Equal(got, c.failed) {
				t.Errorf("failed %q, want %q", got, c.failed)
			}
			b, _ := os.ReadFile(events)
			lines := strings.Fields(string(b))
			if n := countOf(lines, "start"); n != c.starts {
				t.Errorf("the adapter was started %d times, want %d", n, c.starts)
			}
			if n := countOf(lines, "sigterm"); n != c.sigterms {
				t.Errorf("the adapter got SIGTERM %d times, want %d", n, c.sigterms)
			}
			later := 0
			for _, o := range res.Outcomes {
				if o.Fixture == "basic" || o.Fixture == "" {
					continue
				}
				later++
				notTried := o.State == "skipped" && strings.HasPrefix(o.Message, "cannot be checked: the adapter could not be served on fixture basic, so fixture "+o.Fixture+" was not started again")
				switch {
				case c.laterSkipped && !notTried && o.State != "not-applicable":
					t.Errorf("%s on fixture %s: %s %q, want it skipped as not checkable", o.Requirement, o.Fixture, o.State, o.Message)
				case c.laterSkipped && notTried && !strings.Contains(o.Message, "never became ready: start did not answer HTTP"):
					t.Errorf("%s on fixture %s: the reason lacks the first fixture's: %q", o.Requirement, o.Fixture, o.Message)
				case !c.laterSkipped && notTried:
					t.Errorf("%s on fixture %s was not checked, but the adapter can be served: %q", o.Requirement, o.Fixture, o.Message)
				}
			}
			if later == 0 {
				t.Error("no outcome for the later fixtures")
			}
			expectNoLeftovers(t)
		})
	}
}

func countOf(lines []string, s string) int {
	n := 0
	for _, l := range lines {
		if l == s {
			n++
		}
	}
	return n
}
