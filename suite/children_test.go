package suite_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/broken"
)

// A suite.Run owns ginkgo's one global suite, so the runs of one test
// process go one after another (suite.Run holds a lock). The tests that run
// the whole suite once per adapter (every broken adapter, every good one in
// every mode) run each such subtest in a child process of this very test
// binary (-race and all), and report it as a subtest of the parent with the
// child's output (issue 19 item 6). The subtest's body is unchanged: in the
// child, it is the only subtest -test.run selects.
//
// The children of every such test are queued when the test binary starts
// (TestMain), not when their test is reached, and what decides how many run
// at once is what they spend their time on (childKind), not which test
// they belong to: an in-process run keeps a core busy from start to end,
// while a run against a process waits on builds, starts and grace periods
// about half of its time, and one against a container mostly waits on the
// engine. So the container runs overlap the CPU-bound ones instead of
// following them, and the cores stay busy; each test then reports its
// children's verdicts when it is reached. (go test's own t.Parallel cannot
// do this: more parallel tests than cores needs -parallel, which ginkgo
// refuses in every suite.Run.) The CPU pool holds as many in-process runs
// as there are cores, this process's own test among them while it runs
// one, and no more: more would stretch the timing-bound specs (EXPORT-3's
// fifty requests, LAMBDA-12's 7 MB envelope, readiness within a second) on
// a machine that also runs the other packages' tests.

// childEnv marks a child process of eachInChild.
const childEnv = "ADAPTER_CONFORMANCE_SUITE_TEST_CHILD"

// childDoneEnv names the file descriptor a child closes once its tests
// have ended (runChild).
const childDoneEnv = "ADAPTER_CONFORMANCE_SUITE_TEST_CHILD_DONE_FD"

// childParallelEnv overrides how many in-process children run at once.
const childParallelEnv = "ADAPTER_CONFORMANCE_TEST_PARALLEL"

// childParallelism is how many in-process children run at once: one per
// core.
func childParallelism() int {
	if n, err := strconv.Atoi(os.Getenv(childParallelEnv)); err == nil && n > 0 {
		return n
	}
	return max(runtime.GOMAXPROCS(0), 2)
}

// childKind is what a child process spends its time on, which decides
// what may run beside it.
type childKind int

const (
	// inProcessChild runs the adapter and the kit in one race-instrumented
	// process: about a core for the whole run. It takes two units of the
	// CPU pool.
	inProcessChild childKind = iota
	// processChild runs the adapter as a process of its own (a binary, a
	// Lambda function under the kit's Runtime API): about half a core. It
	// takes one unit of the CPU pool.
	processChild
	// engineChild runs the adapter in a container: the engine's builds,
	// starts and removals are most of its time. It takes a slot of the
	// engine pool, apart from the CPU pool.
	engineChild
)

// always is the kind function of a group whose children are all of kind k.
func always(k childKind) func(string) childKind { return func(string) childKind { return k } }

// The pools every test's children share: two units per core, and two
// container runs at a time.
var (
	cpuUnits   = int64(2 * childParallelism())
	cpuPool    = semaphore.NewWeighted(cpuUnits)
	enginePool = semaphore.NewWeighted(2)
)

// poolOf is the pool a child of kind k runs in, and the room it takes there.
func poolOf(k childKind) (*semaphore.Weighted, int64) {
	switch k {
	case processChild:
		return cpuPool, 1
	case engineChild:
		return enginePool, 1
	}
	return cpuPool, 2
}

// This process's own tests (the ones that run the suite here, not in a
// child) hold an in-process child's share of the CPU pool while they run,
// and let go of it while a test waits for its children: they are as
// CPU-bound as an in-process child, and no more sensitive to timing (the
// children run the same specs: HTTP-16's overlap, a start within its
// readiness timeout), so they run beside the children as one of them would.
// Holding the whole pool instead left the cores half idle whenever this
// process ran a test of its own, and its tests after the broken controls
// were most of the package's last minute (issue 19 item 6). Each pool's
// children are let in by one dispatcher, in queue order, so that this
// process waits for at most one child's turn before it has its share again.
//
// Container children are not in the CPU pool and go on meanwhile: the
// engine does most of their work, but their image builds compile Go, so
// this process's tests share the machine with them, as with the other
// packages' tests that go test runs beside this one.
func holdCPU() {
	_, units := poolOf(inProcessChild)
	_ = cpuPool.Acquire(context.Background(), units)
}

func releaseCPU() {
	_, units := poolOf(inProcessChild)
	cpuPool.Release(units)
}

// childJob is a queued child: its subtest's full name, its kind and where
// its run is kept.
type childJob struct {
	full string
	kind childKind
	run  *childRun
}

// dispatchers hold the queued children of each pool, for its dispatcher.
// Each queue holds every group's children at once (TestMain queues them all
// while this process holds the CPU pool, so nothing is taken off yet).
var dispatchers struct {
	once        sync.Once
	cpu, engine chan childJob
}

// started tracks the children that began, so that TestMain waits for them
// before the process exits: a child killed then (Pdeathsig) would leave its
// containers behind. Once stopping, no child begins.
var started struct {
	sync.Mutex
	wg       sync.WaitGroup
	stopping bool
}

// dispatch lets each queued child in when its pool has room, in order, and
// runs it. After the tests end (stopChildren) a child not yet begun is not
// run: its test was never reached (-failfast, a panic).
func dispatch(ctx context.Context, jobs <-chan childJob) {
	for j := range jobs {
		pool, units := poolOf(j.kind)
		if pool.Acquire(ctx, units) != nil {
			close(j.run.done)
			continue
		}
		started.Lock()
		if started.stopping {
			started.Unlock()
			pool.Release(units)
			close(j.run.done)
			continue
		}
		started.wg.Add(1)
		started.Unlock()
		go func() {
			defer started.wg.Done()
			defer close(j.run.done)
			release := sync.OnceFunc(func() { pool.Release(units) })
			defer release()
			start := time.Now()
			j.run.out, j.run.cpu, j.run.err = runChild(j.full, children.deadline, release)
			j.run.elapsed = time.Since(start)
		}()
	}
}

// stopChildren lets no more children begin and waits for those running.
func stopChildren(cancel context.CancelFunc) {
	started.Lock()
	started.stopping = true
	started.Unlock()
	cancel()
	started.wg.Wait()
}

// childGroup is the subtests one test runs in children.
type childGroup struct {
	test  string
	names func() []string
	kind  func(name string) childKind
	// long: the test skips under -short before it runs any child.
	long bool
}

// childGroups are the tests that run their subtests in children, in the
// order their children are queued: the order this process reaches them
// (file by file), so that a test waits for children queued before its own
// only while they run, and the children of later tests run meanwhile.
var childGroups = []childGroup{
	{"TestGoodAdaptersAsBinaries", func() []string { return []string{"standalone", "handler", "fetch"} }, always(processChild), true},
	{"TestBrokenAdaptersAsBinaries", brokenNamesIn(func(e broken.Expect) []string { return e.Binary }), always(processChild), true},
	{"TestEveryDeclaredLambdaShapeIsDriven", func() []string { return []string{"two-lambda-shapes"} }, always(processChild), true},
	{"TestHandwrittenAdapterPasses", func() []string { return []string{"handwritten-adapter"} }, always(processChild), true},
	{"TestUnservableAdapterIsJudgedOnce", func() []string { return slices.Sorted(maps.Keys(unservableCases)) }, always(processChild), true},
	{"TestBrokenAdaptersFailExactlyTheirRequirements", brokenInProcessNames, always(inProcessChild), true},
	{"TestGoodAdapterAsContainer", func() []string { return []string{"standalone"} }, always(engineChild), true},
	{"TestBrokenAdaptersAsContainers", brokenNamesIn(func(e broken.Expect) []string { return e.Container }), always(engineChild), true},
	{"TestGoodLambdaAdaptersAsContainers", func() []string { return []string{"lambda-v2", "function-url-streaming"} }, always(engineChild), true},
	{"TestGoodAdaptersPassEverything", goodInProcessNames, always(inProcessChild), false},
	{"TestGoodAdaptersPassTheDiffCorpusInEveryMode", diffRunNames, func(name string) childKind { return diffRuns()[name].target.kind() }, false},
	{"TestCommaJoinedHeadersPass", func() []string { return slices.Sorted(maps.Keys(commaJoinedAdapters)) }, always(inProcessChild), false},
	{"TestGoodLambdaAdaptersAsRuntimes", func() []string { return []string{"lambda-v1", "lambda-v2", "function-url", "function-url-streaming"} }, always(processChild), true},
	{"TestLambdaRuntimeFailuresAreClear", lambdaRuntimeModes, always(processChild), true},
}

func childGroupOf(test string) (childGroup, bool) {
	for _, g := range childGroups {
		if g.test == test {
			return g, true
		}
	}
	return childGroup{}, false
}

// childRun is one child process: what it wrote, how it ended, how long it
// took once it had room to run.
type childRun struct {
	done    chan struct{}
	out     []byte
	err     error
	elapsed time.Duration
	// cpu is the child's user and system time, its own adapters'
	// processes included once it has waited for them.
	cpu time.Duration
}

// children holds the child runs of this test process by subtest name.
var children = struct {
	sync.Mutex
	runs     map[string]*childRun
	deadline time.Time
	// ctx ends when the tests have (TestMain): no child begins after.
	ctx context.Context
	// env is this process's environment as TestMain found it, before any
	// test changed it: a child started while a test has set TMPDIR (to see
	// what the kit leaves behind) must not write into that test's directory.
	env []string
}{runs: map[string]*childRun{}, ctx: context.Background()}

// queueChildren starts, in the background, a child for each subtest of g
// that -run selects and that has none yet.
func queueChildren(g childGroup) {
	children.Lock()
	defer children.Unlock()
	for _, name := range g.names() {
		full := g.test + "/" + name
		if _, ok := children.runs[full]; ok || !selectedByRunFlag(full) {
			continue
		}
		r := &childRun{done: make(chan struct{})}
		children.runs[full] = r
		dispatchers.once.Do(func() {
			n := 0
			for _, g := range childGroups {
				n += len(g.names())
			}
			dispatchers.cpu, dispatchers.engine = make(chan childJob, n), make(chan childJob, n)
			go dispatch(children.ctx, dispatchers.cpu)
			go dispatch(children.ctx, dispatchers.engine)
		})
		kind := g.kind(name)
		jobs := dispatchers.cpu
		if kind == engineChild {
			jobs = dispatchers.engine
		}
		jobs <- childJob{full, kind, r}
	}
}

// forgetRuns drops the child runs of a test's subtests.
func forgetRuns(test string, names []string) {
	children.Lock()
	defer children.Unlock()
	for _, name := range names {
		delete(children.runs, test+"/"+name)
	}
}

// runOf is the child run of a subtest, nil when none was queued.
func runOf(full string) *childRun {
	children.Lock()
	defer children.Unlock()
	return children.runs[full]
}

// TestMain queues the children of every selected test before any test
// runs (see above); in a child, it only runs the one subtest.
func TestMain(m *testing.M) {
	flag.Parse()
	if os.Getenv(childEnv) == "" && flag.Lookup("test.list").Value.String() == "" {
		if d, err := time.ParseDuration(flag.Lookup("test.timeout").Value.String()); err == nil && d > 0 {
			children.deadline = time.Now().Add(d)
		}
		ctx, cancel := context.WithCancel(context.Background())
		children.ctx = ctx
		children.env = os.Environ()
		// The adapter executables the children share (builtAdapter).
		built, err := os.MkdirTemp("", "suite-test-built-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		children.env = append(children.env, builtEnv+"="+built)
		holdCPU()
		for _, g := range childGroups {
			if !(g.long && testing.Short()) {
				queueChildren(g)
			}
		}
		code := m.Run()
		stopChildren(cancel)
		os.RemoveAll(built)
		os.Exit(code)
	}
	done, err := strconv.Atoi(os.Getenv(childDoneEnv))
	if err == nil {
		// Not passed on to the adapters, builds and helper runtimes this
		// child starts: the pipe must close when this child's tests end,
		// and a helper that is this test binary again has no such pipe.
		syscall.CloseOnExec(done)
		os.Unsetenv(childDoneEnv)
	}
	code := m.Run()
	if err == nil {
		// The tests have ended: the parent may start another child now,
		// while this one exits (see runChild).
		_ = os.NewFile(uintptr(done), "child-done").Close()
	}
	os.Exit(code)
}

// eachInChild runs body as the subtests of t that its childGroup names. In
// the parent test process each subtest has run, or is running, in a child
// process queued by TestMain, and eachInChild reports its verdict; in a
// child (childEnv set), the subtests run here, and -test.run picks the one
// the child is for.
func eachInChild(t *testing.T, body func(t *testing.T, name string)) {
	t.Helper()
	g, ok := childGroupOf(t.Name())
	if !ok {
		t.Fatalf("%s runs children but is not among childGroups", t.Name())
	}
	names := g.names()
	if os.Getenv(childEnv) != "" {
		for _, name := range names {
			t.Run(name, func(t *testing.T) { body(t, name) })
		}
		return
	}
	queueChildren(g) // a no-op unless TestMain left it out
	releaseCPU()
	for _, name := range names {
		if r := runOf(t.Name() + "/" + name); r != nil {
			<-r.done
		}
	}
	holdCPU()
	// Forgotten once reported: with -count=N, the next run of the test
	// queues its children afresh.
	defer forgetRuns(t.Name(), names)
	for _, name := range names {
		r := runOf(t.Name() + "/" + name)
		t.Run(name, func(t *testing.T) {
			if r == nil {
				t.Skip("not selected by -run")
			}
			<-r.done
			verdict := childVerdict(r.out, t.Name())
			switch {
			case r.err == nil && verdict == "PASS":
				t.Logf("passed in a child process in %s (%s of CPU)", r.elapsed.Round(time.Millisecond), r.cpu.Round(time.Millisecond))
			case r.err == nil && verdict == "SKIP":
				t.Skipf("skipped in its child process:\n%s", r.out)
			case verdict == "":
				t.Errorf("the child process for %s did not run it (%v):\n%s", t.Name(), r.err, r.out)
			default:
				t.Errorf("failed in its child process (%v, after %s):\n%s", r.err, r.elapsed.Round(time.Millisecond), r.out)
			}
		})
	}
}

// selectedByRunFlag says whether go test's -run (and -skip) patterns
// select the subtest of this full name, so that no child is started for a
// subtest the parent will not run. A pattern is read as the testing package
// reads it: alternatives split at top-level '|', each matched level by level
// between top-level '/'.
func selectedByRunFlag(name string) bool {
	levels := strings.Split(name, "/")
	matches := func(flagName string) (matched, set bool) {
		f := flag.Lookup(flagName)
		if f == nil || f.Value.String() == "" {
			return false, false
		}
		for _, alt := range splitTopLevel(f.Value.String(), '|') {
			ok := true
			for i, elem := range splitTopLevel(alt, '/') {
				if i >= len(levels) {
					break
				}
				if m, err := regexp.MatchString(elem, levels[i]); err != nil || !m {
					ok = false
					break
				}
			}
			if ok {
				return true, true
			}
		}
		return false, true
	}
	if skip, set := matches("test.skip"); set && skip {
		return false
	}
	run, set := matches("test.run")
	return run || !set
}

// splitTopLevel splits a pattern at sep outside brackets and parentheses.
func splitTopLevel(pattern string, sep byte) []string {
	var out []string
	depth, inClass, start := 0, false, 0
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '\\':
			i++
		case inClass:
			inClass = c != ']'
		case c == '[':
			inClass = true
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == sep && depth == 0:
			out = append(out, pattern[start:i])
			start = i + 1
		}
	}
	return append(out, pattern[start:])
}

// runChild runs one subtest, by its full name, in a child process of this
// test binary, and returns what the child wrote and the CPU time it took.
//
// It calls testsEnded once the child's tests have ended, before the child
// has exited: a race-instrumented process sleeps a second on its way out
// (the race detector's atexit_sleep_ms, left at its default so that it
// still sees what runs then), idle, and that second is no reason to keep
// another child from the CPU. The exit and its status are still waited
// for, and judged.
func runChild(name string, deadline time.Time, testsEnded func()) ([]byte, time.Duration, error) {
	args := []string{"-test.run=" + subtestPattern(name), "-test.v", "-test.count=1"}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	if !deadline.IsZero() {
		// The child stops its own run before the parent's deadline, so
		// its cleanup (and its report of what hung) still happens.
		args = append(args, "-test.timeout="+max(time.Until(deadline)-20*time.Second, time.Second).String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	env := children.env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(slices.Clip(env), childEnv+"=1")
	// The child closes its end of this pipe when its tests have ended;
	// its exit closes it too, should it never get that far.
	ended, endedW, err := os.Pipe()
	if err != nil {
		return nil, 0, err
	}
	defer ended.Close()
	cmd.ExtraFiles = []*os.File{endedW}
	cmd.Env = append(cmd.Env, childDoneEnv+"=3")
	// The child dies with this process (a go test timeout panics without
	// cleanup), and with it whatever adapter it started, by its own
	// Pdeathsig.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Start()
	endedW.Close()
	if err != nil {
		return out.Bytes(), 0, err
	}
	go func() {
		_, _ = io.Copy(io.Discard, ended)
		testsEnded()
	}()
	err = cmd.Wait()
	var cpu time.Duration
	if st := cmd.ProcessState; st != nil {
		cpu = st.UserTime() + st.SystemTime()
	}
	return out.Bytes(), cpu, err
}

// subtestPattern is the -test.run pattern that selects exactly the subtest
// of this full name (as t.Name() writes it), level by level.
func subtestPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// childVerdict reads a child's -test.v output for the subtest's result
// line: PASS, FAIL, SKIP, or "" when it never ran.
func childVerdict(out []byte, name string) string {
	for _, v := range []string{"FAIL", "SKIP", "PASS"} {
		if bytes.Contains(out, []byte(fmt.Sprintf("--- %s: %s (", v, name))) {
			return v
		}
	}
	return ""
}
