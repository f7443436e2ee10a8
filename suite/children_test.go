package suite_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A suite.Run owns ginkgo's one global suite, so the runs of one test
// process go one after another (suite.Run holds a lock). The tests that run
// the whole suite once per adapter (every broken adapter, every good one in
// every mode) spend much of that time waiting rather than computing: the
// deliberate waits (HTTP-16's stream, START-3's in-flight request,
// ROBUST-6's watch), readiness and grace periods, builds. eachInChild runs
// each such subtest in a child process of this very test binary (-race and
// all), several at a time, and reports each as a subtest of the parent with
// the child's output (issue 19 item 6). The subtest's body is unchanged: in
// the child, it is the only subtest -test.run selects.

// childEnv marks a child process of eachInChild.
const childEnv = "ADAPTER_CONFORMANCE_SUITE_TEST_CHILD"

// childParallelEnv overrides how many children run at once.
const childParallelEnv = "ADAPTER_CONFORMANCE_TEST_PARALLEL"

// childParallelism is how many children run at once: one per core. More
// would overlap more of the waiting, but stretch the timing-bound specs
// (EXPORT-3's fifty requests, LAMBDA-12's 7 MB envelope, readiness within
// a second) on a machine that also runs the other packages' tests.
func childParallelism() int {
	if n, err := strconv.Atoi(os.Getenv(childParallelEnv)); err == nil && n > 0 {
		return n
	}
	return max(runtime.GOMAXPROCS(0), 2)
}

// eachInChild runs body as subtest name of t for each name. In the parent
// test process each subtest runs in a child process, childParallelism at a
// time; in a child (childEnv set), the subtests run here, and -test.run
// picks the one the child is for.
func eachInChild(t *testing.T, names []string, body func(t *testing.T, name string)) {
	t.Helper()
	if os.Getenv(childEnv) != "" {
		for _, name := range names {
			t.Run(name, func(t *testing.T) { body(t, name) })
		}
		return
	}
	type childRun struct {
		out     []byte
		err     error
		elapsed time.Duration
	}
	runs := make([]childRun, len(names))
	sem := make(chan struct{}, childParallelism())
	var wg sync.WaitGroup
	for i, name := range names {
		if !selectedByRunFlag(t.Name() + "/" + name) {
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			start := time.Now()
			runs[i].out, runs[i].err = runChild(t, t.Name()+"/"+name)
			runs[i].elapsed = time.Since(start)
		})
	}
	wg.Wait()
	for i, name := range names {
		t.Run(name, func(t *testing.T) {
			r := runs[i]
			verdict := childVerdict(r.out, t.Name())
			switch {
			case r.err == nil && verdict == "PASS":
				t.Logf("passed in a child process in %s", r.elapsed.Round(time.Millisecond))
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
// test binary, and returns what the child wrote.
func runChild(t *testing.T, name string) ([]byte, error) {
	args := []string{"-test.run=" + subtestPattern(name), "-test.v", "-test.count=1"}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	if dl, ok := t.Deadline(); ok {
		// The child stops its own run before the parent's deadline, so
		// its cleanup (and its report of what hung) still happens.
		args = append(args, "-test.timeout="+max(time.Until(dl)-20*time.Second, time.Second).String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	// The child dies with this process (a go test timeout panics without
	// cleanup), and with it whatever adapter it started, by its own
	// Pdeathsig.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
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
