package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// adapterProcesses lists the pids of processes running a binary the kit
// built (their command line names the kit's build directory).
func adapterProcesses(t *testing.T, marker string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	var pids []string
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), marker) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// TestInterruptLeavesNothing interrupts the CLI while a binary target runs:
// ginkgo's interrupt handling must still stop the adapter process.
func TestInterruptLeavesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI and an adapter")
	}
	dir := t.TempDir()
	cli := filepath.Join(dir, "adapter-conformance")
	if out, err := exec.Command("go", "build", "-o", cli, ".").CombinedOutput(); err != nil {
		t.Fatalf("building the CLI: %v\n%s", err, out)
	}
	tmp := filepath.Join(dir, "tmp")
	os.Mkdir(tmp, 0o755)
	cmd := exec.Command(cli, "run", "--target", "../../fixtures/adapters/good/standalone", "--report-dir", filepath.Join(dir, "report"))
	// A private TMPDIR makes the kit's build directory, and so its adapter
	// processes, recognisable.
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for len(adapterProcesses(t, tmp)) == 0 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the adapter process never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the CLI did not stop after SIGINT")
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		left := adapterProcesses(t, tmp)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			for _, pid := range left {
				if n, err := strconv.Atoi(pid); err == nil {
					syscall.Kill(n, syscall.SIGKILL)
				}
			}
			t.Fatalf("adapter processes left after the interrupt: %v", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
