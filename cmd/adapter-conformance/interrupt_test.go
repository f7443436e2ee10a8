package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/adapterconformance/adapter-conformance/reports"
	"github.com/adapterconformance/adapter-conformance/runner/ownership"
)

// adapterProcesses lists the pids of adapter processes serving the
// fixture app: programs run from the kit's build directory under tmp (not
// the compilers building them, nor a --describe run).
func adapterProcesses(t *testing.T, tmp string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	var pids []string
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		argv := strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00")
		if strings.HasPrefix(argv[0], filepath.Join(tmp, "adapter-conformance-build-")) && !slices.Contains(argv, "--describe") {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// cliSandbox builds the CLI into a fresh directory, to be run as its own
// process, with a private TMPDIR beside it: the kit's build directory, and
// so its adapter processes, are then recognisable.
func cliSandbox(t *testing.T) (dir, cli, tmp string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the CLI and runs it")
	}
	dir = t.TempDir()
	cli = filepath.Join(dir, "adapter-conformance")
	if out, err := exec.Command("go", "build", "-o", cli, ".").CombinedOutput(); err != nil {
		t.Fatalf("building the CLI: %v\n%s", err, out)
	}
	tmp = filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, cli, tmp
}

// waitGone polls until check finds nothing left, and reports what is
// left after a few seconds (a killed process is gone once it is reaped).
func waitGone(t *testing.T, what string, check func() []string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := check()
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s left: %v", what, left)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// interruptWhen starts the CLI, sends it SIGINT once ready holds, and
// waits for it to exit.
func interruptWhen(t *testing.T, cmd *exec.Cmd, what string, ready func() bool) {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for !ready() {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-done
			t.Fatal(what + " never happened")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("the CLI did not stop after SIGINT")
	}
}

// killAll ends the processes a failed test would otherwise leave.
func killAll(pids []string) {
	for _, p := range pids {
		if n, err := strconv.Atoi(p); err == nil {
			syscall.Kill(n, syscall.SIGKILL)
		}
	}
}

// TestInterruptDuringBuild interrupts the CLI while it builds the target:
// the build stops, with every compiler it started, its directory is
// removed, and the reports still say why nothing ran. A -toolexec wrapper
// that blocks holds the build at its first tool, so the interrupt lands
// mid-build every time.
func TestInterruptDuringBuild(t *testing.T) {
	dir, cli, tmp := cliSandbox(t)
	pids := filepath.Join(dir, "tool.pids")
	tool := filepath.Join(dir, "blocking-tool")
	os.WriteFile(tool, []byte("#!/bin/sh\necho $$ >> "+pids+"\nexec sleep 300\n"), 0o755)
	reportDir := filepath.Join(dir, "report")
	cmd := exec.Command(cli, "run", "--target", "../../fixtures/adapters/good/standalone", "--report-dir", reportDir)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "GOFLAGS=-toolexec="+tool)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	toolPids := func() []string {
		b, _ := os.ReadFile(pids)
		var alive []string
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil && syscall.Kill(n, 0) == nil && !zombie(n) {
				alive = append(alive, f)
			}
		}
		return alive
	}
	// Whatever happens, the test leaves no blocked tool behind.
	defer func() { killAll(toolPids()) }()
	interruptWhen(t, cmd, "a tool of the build starting", func() bool { return len(toolPids()) > 0 })
	if code := cmd.ProcessState.ExitCode(); code != exitCannotRun {
		t.Errorf("exit %d, want %d; stderr:\n%s", code, exitCannotRun, stderr.String())
	}
	waitGone(t, "compilers of the interrupted build", toolPids)
	waitGone(t, "build directories", func() []string {
		left, _ := filepath.Glob(filepath.Join(tmp, "adapter-conformance-build-*"))
		// The go tool's own work directory (GOTMPDIR), which a killed go
		// cannot remove.
		work, _ := filepath.Glob(filepath.Join(tmp, "go-build*"))
		return append(left, work...)
	})
	r, err := reports.Read(filepath.Join(reportDir, reports.JSONFile))
	if err != nil {
		t.Fatalf("no report after an interrupted build: %v", err)
	}
	if r.Summary.Verdict != reports.VerdictInconclusive || !strings.Contains(r.RunError, "stopped before it finished") || !strings.Contains(r.Incomplete, "interrupted") {
		t.Errorf("report verdict %q, runError %q, incomplete %q: an interrupted build is an incomplete run", r.Summary.Verdict, r.RunError, r.Incomplete)
	}
}

// zombie reports whether a process has exited but is not yet reaped.
func zombie(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return true
	}
	// The state follows the parenthesised command name.
	_, after, _ := strings.Cut(string(b), ") ")
	return strings.HasPrefix(after, "Z")
}

// TestInterruptLeavesNothing interrupts the CLI in the middle of a spec,
// after others passed: the adapter process and the directories made for it
// are gone, the exit status asks for a rerun rather than passing or blaming
// the adapter, and the reports say the run did not finish. The adapter
// never answers /about and marks the moment that request arrives, so the
// interrupt lands there every time.
func TestInterruptLeavesNothing(t *testing.T) {
	dir, cli, tmp := cliSandbox(t)
	reportDir := filepath.Join(dir, "report")
	mark := filepath.Join(dir, "about-requested")
	cmd := exec.Command(cli, "run", "--target", "../../suite/testdata/hanging-adapter", "--fixture", "basic", "--report-dir", reportDir)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "HANGING_ADAPTER_MARK="+mark)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	defer func() { killAll(adapterProcesses(t, tmp)) }()
	interruptWhen(t, cmd, "the request for /about", func() bool { _, err := os.Stat(mark); return err == nil })
	waitGone(t, "adapter processes", func() []string { return adapterProcesses(t, tmp) })
	if code := cmd.ProcessState.ExitCode(); code != exitCannotRun {
		t.Errorf("exit %d, want %d; stderr:\n%s", code, exitCannotRun, stderr.String())
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "adapter-conformance-*")); len(left) > 0 {
		t.Errorf("directories left: %v", left)
	}
	r, err := reports.Read(filepath.Join(reportDir, reports.JSONFile))
	if err != nil {
		t.Fatalf("no report after an interrupted run: %v", err)
	}
	if r.Summary.Verdict != reports.VerdictInconclusive || r.Summary.Passed == 0 || r.Summary.Failed > 0 || !strings.Contains(r.Incomplete, "interrupted") {
		t.Errorf("report summary %+v, incomplete %q; stderr:\n%s", r.Summary, r.Incomplete, stderr.String())
	}
}

// TestKilledCLILeavesNothing SIGKILLs the CLI in the middle of a spec, so
// that none of its cleanup runs: the adapter process dies with it (the
// kernel's parent-death signal) within a second, and what it left on disk
// is removed by the next run's sweep, which leaves a live run's alone.
func TestKilledCLILeavesNothing(t *testing.T) {
	dir, cli, tmp := cliSandbox(t)
	mark := filepath.Join(dir, "about-requested")
	cmd := exec.Command(cli, "run", "--target", "../../suite/testdata/hanging-adapter", "--fixture", "basic", "--report-dir", filepath.Join(dir, "report"))
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "HANGING_ADAPTER_MARK="+mark)
	defer func() { killAll(adapterProcesses(t, tmp)) }()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, err := os.Stat(mark); err != nil; _, err = os.Stat(mark) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("the adapter never got the request for /about")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(adapterProcesses(t, tmp)) == 0 {
		t.Fatal("no adapter process to outlive the CLI")
	}
	cmd.Process.Kill()
	cmd.Wait()
	killedAt := time.Now()
	for len(adapterProcesses(t, tmp)) > 0 {
		if time.Since(killedAt) > time.Second {
			t.Fatalf("adapter processes %v still run a second after the CLI was killed", adapterProcesses(t, tmp))
		}
		time.Sleep(10 * time.Millisecond)
	}
	left, _ := filepath.Glob(filepath.Join(tmp, "adapter-conformance-*"))
	if len(left) == 0 {
		t.Fatal("the killed CLI left no directory, so the sweep is not shown working")
	}
	// A live run's directory, which the sweep must keep.
	t.Setenv("TMPDIR", tmp)
	live := filepath.Join(tmp, "adapter-conformance-cwd-"+strconv.Itoa(os.Getpid())+"."+ownStartTime(t)+"-1")
	if err := os.Mkdir(live, 0o700); err != nil {
		t.Fatal(err)
	}
	_, removed := ownership.SweepDeadRuns()
	if after, _ := filepath.Glob(filepath.Join(tmp, "adapter-conformance-*")); len(after) != 1 || after[0] != live {
		t.Errorf("after the sweep (removed %v): %v, want only the live run's directory", removed, after)
	}
}

// ownStartTime is this process's start time as /proc gives it, the second
// half of the owner token in the kit's directory names.
func ownStartTime(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Skip("no /proc")
	}
	_, after, _ := strings.Cut(string(b), ") ")
	return strings.Fields(after)[19]
}
