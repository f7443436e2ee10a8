package suite_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
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

// builtEnv names the directory where the children of one test process
// keep the adapter executables they build (builtAdapter); TestMain makes
// it and removes it.
const builtEnv = "ADAPTER_CONFORMANCE_SUITE_TEST_BUILT"

// builtAdapter is the adapter of adapterDir(parts...) built once for all
// the children of this test process (issue 19 item 6): the tests that run
// dozens of adapters as binaries to judge their behaviour need not link
// the same executable each time. The build itself is the binary target's
// own, and stays tested where a test names the package directory (as
// TestGoodAdaptersAsBinaries does). The first child to ask builds it,
// under a file lock the others wait on. Outside a child it is the package
// directory, which the target builds.
func builtAdapter(t *testing.T, parts ...string) string {
	t.Helper()
	dir := adapterDir(parts...)
	shared := os.Getenv(builtEnv)
	if shared == "" {
		return dir
	}
	exe := filepath.Join(shared, strings.Join(parts, "-"))
	lock, err := os.OpenFile(exe+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(exe); err == nil {
		return exe
	}
	bin, buildDir, err := executable.Build(t.Context(), dir, "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(buildDir)
	if err := os.Rename(bin, exe); err != nil {
		t.Fatal(err)
	}
	return exe
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
	// A good adapter leaves nothing that "cannot be checked": a skip
	// would hide a check the kit failed to make (as an early stream whose
	// instance never started would, passing by saying nothing).
	for _, o := range res.Outcomes {
		if o.State == suite.Skipped {
			t.Errorf("%s was not checked: %s\n%s", o.Requirement, o.Spec, o.Message)
		}
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
	eachInChild(t, func(t *testing.T, name string) {
		expectAllPass(t, runner.Binary(adapterDir("good", name), runner.WithName("good-"+name)), "basic", "no-404", "base-app")
		expectNoLeftovers(t)
	})
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
	// Every broken adapter whose registry entry expects failures as a
	// binary (broken.Expect.Binary), by name.
	byName := map[string]expected{}
	for _, b := range brokenExpectations() {
		byName[b.Name] = b
	}
	eachInChild(t, func(t *testing.T, name string) {
		b := byName[name]
		want := b.Fails.Binary
		target := runner.Binary(builtAdapter(t, "broken"), runner.WithName(name), runner.WithEnv("BROKEN_ADAPTER="+name),
			runner.WithReadinessTimeout(2*time.Second), runner.WithGracePeriod(2*time.Second))
		res, err := suite.Run(nil, target, suite.Quiet(), suite.Fixtures("basic"))
		if err != nil {
			t.Fatal(err)
		}
		got := res.Failed()
		if !slices.Equal(got, slices.Sorted(slices.Values(want))) {
			t.Errorf("%s as a binary failed %q, want %q%s", name, got, want, why(b.Fails))
		}
		if line := b.Fails.LogLine; line != "" {
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
	// In a child process (eachInChild), beside the other children's work.
	eachInChild(t, func(t *testing.T, name string) {
		target := runner.Binary(filepath.Join("testdata", name), runner.WithName(name))
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
	})
}

// TestHandwrittenAdapterPasses: an adapter written from README and SPEC.md
// alone, with its own main and a --describe envelope printed by hand, passes
// every requirement that applies to it as a binary.
func TestHandwrittenAdapterPasses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs an adapter process")
	}
	// In a child process (eachInChild), beside the other children's work.
	eachInChild(t, func(t *testing.T, name string) {
		res, err := suite.Run(nil, runner.Binary(filepath.Join("testdata", name), runner.WithName("handwritten")), suite.Quiet())
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
	})
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
	// Each case in a child process of its own (eachInChild): they wait out
	// readiness timeouts and grace periods, which run beside other
	// children's work there instead of holding up this process's tests.
	eachInChild(t, func(t *testing.T, name string) {
		c := unservableCases[name]
		events := filepath.Join(t.TempDir(), "events")
		target := runner.Binary(builtAdapter(t, "broken"), runner.WithName(name),
			runner.WithEnv("BROKEN_ADAPTER="+name, "BROKEN_ADAPTER_EVENTS="+events),
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

// unservableCase is an adapter TestUnservableAdapterIsJudgedOnce runs:
// what it fails, how often it is started and sent SIGTERM, and whether the
// later fixtures' specs are "cannot be checked".
type unservableCase struct {
	failed           []string
	starts, sigterms int
	laterSkipped     bool
}

// unservableCases are TestUnservableAdapterIsJudgedOnce's adapters, by
// the broken-adapter binary's name for each.
var unservableCases = map[string]unservableCase{
	"process-never-ready":    {[]string{"START-1", "START-2", "START-6"}, 1, 0, true},
	"process-hangs":          {[]string{"START-1", "START-2", "START-6"}, 1, 0, true},
	"process-writes-garbage": {[]string{"START-1", "START-2", "START-6"}, 1, 0, true},
	// Started for each fixture, once more for PROC-2's second app on
	// basic and once for HTTP-16's instance of its own; SIGTERM goes
	// to basic's own instance only (START-5 checks it): the second
	// app's and HTTP-16's instances' stops judge nothing and the later
	// fixtures' stops come after the verdict, so those are killed at once.
	"process-ignores-sigterm": {[]string{"START-4", "START-5"}, 5, 1, false},
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
