package runner

import (
	"os/exec"
	"testing"
	"time"
)

// TestExitStatusNamesTheSignal: a process killed by a signal is described
// with the signal's name ("killed by signal SIGKILL"), not syscall's
// description of it ("killed by signal killed").
func TestExitStatusNamesTheSignal(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for sig, want := range map[string]string{"KILL": "killed by signal SIGKILL", "TERM": "killed by signal SIGTERM", "SEGV": "killed by signal SIGSEGV"} {
		p, err := startProcess(sh, t.TempDir(), []string{"-c", "kill -" + sig + " $$"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			p.kill()
			t.Fatalf("kill -%s: the process did not end", sig)
		}
		if got := p.exitStatus(); got != want {
			t.Errorf("kill -%s: exit status %q, want %q", sig, got, want)
		}
	}
}
