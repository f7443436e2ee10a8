package runner

import (
	"context"
	"errors"
	"os"
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

// TestTerminateWaitsOutGraceDespiteDeadline: a process that ignores SIGTERM
// is reported as ignoring it (ErrIgnoredSIGTERM) even when the caller's
// deadline ends first, as START-5's, set to the grace period a moment
// before terminate's own timer, did at random (a CI run then saw a second
// SIGTERM on the next fixture); a cancellation still kills it at once.
func TestTerminateWaitsOutGraceDespiteDeadline(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	ignoring := func(t *testing.T) *process {
		t.Helper()
		// An ignored signal stays ignored across exec. The mark file says
		// the trap is set, so that SIGTERM does not come before it.
		mark := t.TempDir() + "/trapped"
		p, err := startProcess(sh, t.TempDir(), []string{"-c", "trap '' TERM; : > " + mark + "; exec sleep 30"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.kill)
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if _, err := os.Stat(mark); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the process did not set its trap")
			}
		}
		return p
	}
	t.Run("deadline before the grace period", func(t *testing.T) {
		p := ignoring(t)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		err := p.terminate(ctx, 300*time.Millisecond)
		if !errors.Is(err, ErrIgnoredSIGTERM) {
			t.Errorf("terminate = %v, want an error wrapping ErrIgnoredSIGTERM", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		p := ignoring(t)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		began := time.Now()
		err := p.terminate(ctx, time.Minute)
		if errors.Is(err, ErrIgnoredSIGTERM) || !errors.Is(err, context.Canceled) {
			t.Errorf("terminate = %v, want the kit giving up (context canceled)", err)
		}
		if took := time.Since(began); took > 30*time.Second {
			t.Errorf("a cancelled terminate took %s: it waited out the grace period", took)
		}
	})
}
