package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/adapterconformance/adapter-conformance/runner/executable"
	"github.com/adapterconformance/adapter-conformance/runner/ownership"
)

// process is an adapter running as a child process in a process group of
// its own, so that stopping it also stops whatever it started.
type process struct {
	cmd *exec.Cmd
	// id marks the process and its descendants (ownership.NextProcessID).
	id      string
	logs    executable.OutputBuffer
	done    chan struct{}
	waitErr error // set before done is closed
}

// startProcess starts bin in dir with env added to the kit's environment.
func startProcess(bin, dir string, args, env []string) (*process, error) {
	ownership.SweepDeadRunsOnce()
	p := &process{id: ownership.NextProcessID(), logs: executable.NewOutputBuffer(), done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Env = append(append(ownership.Environ(), ownership.Env(p.id)...), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	p.cmd.SysProcAttr = ownership.ProcAttr()
	// Bounds Wait when a grandchild keeps the output pipes open.
	p.cmd.WaitDelay = 2 * time.Second
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	ownership.RememberGroup(p.cmd.Process.Pid)
	return p, nil
}

func (p *process) signalGroup(sig syscall.Signal) {
	// The group id is the child's pid (Setpgid); a negative pid signals the group.
	syscall.Kill(-p.cmd.Process.Pid, sig)
}

// exitStatus describes how the process ended, or "" while it runs.
func (p *process) exitStatus() string {
	select {
	case <-p.done:
	default:
		return ""
	}
	if p.waitErr == nil {
		return "exited with status 0"
	}
	var ee *exec.ExitError
	if errors.As(p.waitErr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "killed by signal " + signalName(ws.Signal())
		}
		return fmt.Sprintf("exited with status %d", ee.ExitCode())
	}
	return p.waitErr.Error()
}

// signalName is the signal's constant name, "SIGKILL", where
// syscall.Signal's String says "killed"; its number when it has none.
func signalName(sig syscall.Signal) string {
	if name := unix.SignalName(sig); name != "" {
		return name
	}
	return fmt.Sprintf("%d (%s)", int(sig), sig)
}

// terminate sends SIGTERM and waits up to grace for the process to exit
// (START-5, PROC). A process that outlives the grace period is killed and
// that is the error; a non-zero exit is an error too.
func (p *process) terminate(ctx context.Context, grace time.Duration) error {
	select {
	case <-p.done:
		return fmt.Errorf("the adapter process had already %s before shutdown", p.exitStatus())
	default:
	}
	if grace <= 0 {
		// A stop without grace (WithoutGrace): nothing is judged by it.
		p.kill()
		return nil
	}
	p.signalGroup(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	// Only a cancellation (an interrupted run, a cleanup's node timeout)
	// cuts the grace period short, not the caller's deadline: START-5's is
	// the grace period itself, set a moment before this timer, and when it
	// won the race an adapter that ignores SIGTERM was reported as the kit
	// giving up, and not known to ignore it, so every later fixture waited
	// out the grace period again (START-5, issue 19 item 4). The
	// container's terminate waits out its grace period the same way, under
	// no deadline of the caller's.
	gaveUp := make(chan struct{})
	defer context.AfterFunc(ctx, func() {
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			close(gaveUp)
		}
	})()
	select {
	case <-p.done:
	case <-t.C:
		p.kill()
		return fmt.Errorf("the adapter process did not exit within %s of %w and was killed", grace, ErrIgnoredSIGTERM)
	case <-gaveUp:
		p.kill()
		return fmt.Errorf("the adapter process had not exited when the kit gave up: %w", ctx.Err())
	}
	if p.waitErr != nil {
		return fmt.Errorf("after SIGTERM the adapter process %s", p.exitStatus())
	}
	return nil
}

// kill ends the whole process group at once and waits for the leader;
// then every descendant that left the group (setsid) is killed too.
func (p *process) kill() {
	p.signalGroup(syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
	// Members that outlived the leader are killed too.
	p.signalGroup(syscall.SIGKILL)
	ownership.KillAll(ownership.Descendants(p.id))
}

// leftBehind lists the processes descended from the adapter process that
// still run (PROC-8): after it has exited, what it failed to stop.
func (p *process) leftBehind() []string {
	var out []string
	for _, pid := range ownership.Descendants(p.id) {
		cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		out = append(out, fmt.Sprintf("pid %d: %s", pid, strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))))
	}
	return out
}

// ErrIgnoredSIGTERM is wrapped by the error of a shutdown that outlived its
// grace period: the adapter (process or container) ignored SIGTERM and was
// killed (START-5).
//
// Its text is "SIGTERM", so that it reads in place in the sentence it is
// wrapped in ("did not exit within 10s of SIGTERM and was killed").
var ErrIgnoredSIGTERM = errors.New("SIGTERM")

type noGraceKey struct{}

// WithoutGrace marks a stop context: the adapter has already shown, earlier
// in the run, that it ignores SIGTERM, so a stop under this context kills it
// at once instead of waiting out the grace period again (issue 19 item 4).
func WithoutGrace(ctx context.Context) context.Context {
	return context.WithValue(ctx, noGraceKey{}, true)
}

// graceUnder is the grace period a stop under ctx gives the adapter.
func graceUnder(ctx context.Context, grace time.Duration) time.Duration {
	if ctx.Value(noGraceKey{}) != nil {
		return 0
	}
	return grace
}
