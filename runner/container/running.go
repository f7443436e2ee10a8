package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	mobycontainer "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go/wait"
	"golang.org/x/sys/unix"

	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/runner/executable"
)

// A started adapter container as the kit watches it: its state and exit
// status, its output, how it is stopped (SIGTERM, the grace period, then
// SIGKILL, START-5), and the readiness wait that tells a container that
// never answered from one that exited.

// runningContainer is the adapter's container as its Host sees it.
type runningContainer struct {
	cli client.APIClient
	id  string
	// signalled is closed once terminate has had SIGTERM delivered
	// (runner.Host.Signalled).
	signalled  chan struct{}
	signalOnce sync.Once

	mu sync.Mutex
	// exited is the final status once the container has ended.
	exited string
	// stopped: the kit stopped it (terminate). Its end is the kit's doing,
	// not a crash whose last words must be waited for, so its output is
	// read at once (finish).
	stopped bool
	// gone is set once the container is about to be removed; the logs and
	// status are kept from then on.
	gone       bool
	finalLogs  string
	finalState string

	// exitLogs is the whole output of the container once it has exited,
	// read once when its log has stopped growing (output).
	exitOnce sync.Once
	exitLogs string
}

func (c *runningContainer) state(ctx context.Context) (*mobycontainer.State, error) {
	r, err := c.cli.ContainerInspect(ctx, c.id, client.ContainerInspectOptions{})
	if err != nil {
		return nil, err
	}
	if r.Container.State == nil {
		return nil, errors.New("the engine reports no state")
	}
	return r.Container.State, nil
}

// describeState says how a container ended, or "" while it runs.
func describeState(st *mobycontainer.State) string {
	switch {
	case st.Running || st.Restarting || st.Paused:
		return ""
	case st.Status == mobycontainer.StateCreated:
		return "was never started"
	case st.OOMKilled:
		return fmt.Sprintf("was killed for lack of memory (exit status %d)", st.ExitCode)
	}
	return "exited with status " + exitCodeString(st.ExitCode)
}

// exitCodeString reads a container's exit code as the shell convention has
// it: 128+N is a process ended by signal N ("137 (128+SIGKILL)").
func exitCodeString(code int) string {
	if code > 128 && code < 128+65 {
		if name := unix.SignalName(syscall.Signal(code - 128)); name != "" {
			return fmt.Sprintf("%d (128+%d: killed by %s)", code, code-128, name)
		}
	}
	return strconv.Itoa(code)
}

// exitStatus is Host.ExitStatus: "" while the container runs.
func (c *runningContainer) exitStatus() string {
	c.mu.Lock()
	if c.gone || c.exited != "" {
		defer c.mu.Unlock()
		if c.gone {
			return c.finalState
		}
		return c.exited
	}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := c.state(ctx)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return "was removed"
		}
		return ""
	}
	s := describeState(st)
	if s != "" && st.Status != mobycontainer.StateCreated {
		c.mu.Lock()
		c.exited = s
		c.mu.Unlock()
	}
	return s
}

// logs is Host.Logs: stdout and stderr so far, fetched when asked, capped.
// Once the container has exited (as exitStatus saw it), they are its
// whole output, read when the engine has finished writing it.
func (c *runningContainer) logs() string {
	c.mu.Lock()
	if c.gone {
		defer c.mu.Unlock()
		return c.finalLogs
	}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.output(ctx)
}

// output is the container's output so far; once it has exited on its own
// (as exitStatus saw it, and not stopped by the kit), read once its log has
// stopped growing (waitOutputSettled) and kept: it no longer changes.
func (c *runningContainer) output(ctx context.Context) string {
	c.mu.Lock()
	settle := c.exited != "" && !c.stopped
	c.mu.Unlock()
	if !settle {
		return c.fetchLogs(ctx)
	}
	c.exitOnce.Do(func() {
		waitOutputSettled(ctx, c.cli, c.id)
		c.exitLogs = c.fetchLogs(ctx)
	})
	return c.exitLogs
}

func (c *runningContainer) fetchLogs(ctx context.Context) string {
	buf := executable.NewOutputBuffer()
	if err := containerOutput(ctx, c.cli, c.id, buf, buf); err != nil {
		return buf.String() + fmt.Sprintf("\n[adapter-conformance: the container's logs could not be read: %v]", err)
	}
	return buf.String()
}

// finish keeps the logs and final state before the container is removed.
// A container that exited on its own before the kit stopped it (a crash)
// has its output read once it is complete; one the kit stopped, at once.
func (c *runningContainer) finish(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	logs := c.output(ctx)
	status := "was removed"
	if st, err := c.state(ctx); err == nil {
		status = describeState(st)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.gone {
		c.gone, c.finalLogs, c.finalState = true, logs, status
	}
}

// terminate is Host.Shutdown: what `docker stop` does, SIGTERM, then
// SIGKILL once grace is over (START-5, PROC), with the moment SIGTERM was
// delivered made known (Signalled).
func (c *runningContainer) terminate(ctx context.Context, grace time.Duration) error {
	st, err := c.state(ctx)
	if err != nil {
		return fmt.Errorf("inspecting the adapter container: %w", err)
	}
	if s := describeState(st); s != "" {
		return fmt.Errorf("the adapter container had already %s before shutdown", s)
	}
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
	if grace <= 0 {
		// A stop without grace (WithoutGrace): nothing is judged by it,
		// and an exit status of 137 here is the kit's kill, not the
		// adapter ignoring SIGTERM.
		kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		if _, err := c.cli.ContainerKill(kctx, c.id, client.ContainerKillOptions{Signal: "SIGKILL"}); err != nil {
			if st, serr := c.state(kctx); serr == nil && describeState(st) != "" {
				return nil // it exited on its own meanwhile
			}
			return fmt.Errorf("killing the adapter container: %w", err)
		}
		return nil
	}
	// SIGTERM first, on its own call, so that the kit knows when the
	// adapter was told (Signalled): on a busy engine the calls before it
	// can take longer than START-4's reaction time. Then what "docker
	// stop" does: wait out the grace period, and kill.
	kctx, kcancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer kcancel()
	if _, err := c.cli.ContainerKill(kctx, c.id, client.ContainerKillOptions{Signal: "SIGTERM"}); err != nil {
		if st, serr := c.state(kctx); serr != nil || describeState(st) == "" {
			return fmt.Errorf("sending SIGTERM to the adapter container: %w", err)
		}
		// It exited on its own meanwhile: judged below, by its status.
	}
	c.signalOnce.Do(func() { close(c.signalled) })
	// Not under the caller's deadline (the grace period and a little): cut
	// just before the engine's answer, an adapter ignoring SIGTERM would be
	// reported as the kit giving up instead (START-5).
	if !c.waitNotRunning(context.WithoutCancel(ctx), grace) {
		c.kill()
		if !c.waitNotRunning(context.WithoutCancel(ctx), cleanupTimeout) {
			return fmt.Errorf("the adapter container did not exit within %s of %w, nor once killed", grace, runner.ErrIgnoredSIGTERM)
		}
	}
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if st, err = c.state(ictx); err != nil {
		return fmt.Errorf("inspecting the adapter container after it stopped: %w", err)
	}
	switch {
	case st.ExitCode == 137 && !st.OOMKilled:
		// 128+SIGKILL: the kit killed it when the grace period ran out.
		return fmt.Errorf("the adapter container did not exit within %s of %w and was killed (exit status 137)", grace, runner.ErrIgnoredSIGTERM)
	case st.ExitCode != 0 || st.OOMKilled:
		return fmt.Errorf("after SIGTERM the adapter container %s", describeState(st))
	}
	return nil
}

// waitNotRunning waits up to d (or until ctx ends) for the container to
// stop running, and says whether it did.
func (c *runningContainer) waitNotRunning(ctx context.Context, d time.Duration) bool {
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	res := c.cli.ContainerWait(wctx, c.id, client.ContainerWaitOptions{Condition: mobycontainer.WaitConditionNotRunning})
	select {
	case <-res.Result:
		return true
	case <-res.Error:
		// The wait was cut short (d ran out, ctx ended) or failed: what
		// the engine says now decides.
		sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer scancel()
		st, err := c.state(sctx)
		return err == nil && describeState(st) != ""
	}
}

// kill sends SIGKILL, as "docker stop" does once the grace period is over.
func (c *runningContainer) kill() {
	kctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	c.cli.ContainerKill(kctx, c.id, client.ContainerKillOptions{Signal: "SIGKILL"})
}

// startError explains a container that never answered HTTP, with its state
// and output (START-2).
func (c *runningContainer) startError(ctx context.Context, url string, readiness time.Duration, cause error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	logs := tail(c.fetchLogs(ctx), 2000)
	st, err := c.state(ctx)
	switch {
	case err != nil:
		return fmt.Errorf("start did not answer HTTP on %s within %s (%v); the container could not be inspected: %v; its output:\n%s", url, readiness, cause, err, logs)
	case describeState(st) == "was never started":
		return fmt.Errorf("the adapter container was never started: %v", cause)
	case describeState(st) != "":
		return fmt.Errorf("start exited before it was ready: the adapter container %s; its output:\n%s", describeState(st), logs)
	}
	return fmt.Errorf("start did not answer HTTP on %s within %s (%v); the container is %s; its output:\n%s", url, readiness, cause, st.Status, logs)
}

// httpReady is the readiness wait: any HTTP answer on / through the
// published port, polled until the timeout or until the container ends.
// (wait.ForHTTP would reach the port at testcontainers' guess of the host.)
type httpReady struct {
	host    string
	timeout time.Duration
}

func (s *httpReady) Timeout() *time.Duration { return &s.timeout }
func (s *httpReady) String() string {
	return fmt.Sprintf("any HTTP answer on / of port %s within %s", containerPort, s.timeout)
}

func (s *httpReady) WaitUntilReady(ctx context.Context, target wait.StrategyTarget) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	hc := runner.ProbeClient()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := target.State(ctx)
		if err == nil && describeState(st) != "" {
			return fmt.Errorf("the container %s", describeState(st))
		}
		if port, err := target.MappedPort(ctx, containerPort); err == nil && port.Num() != 0 {
			url := "http://" + net.JoinHostPort(s.host, strconv.Itoa(int(port.Num()))) + "/"
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if resp, err := hc.Do(req); err == nil {
				io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
				resp.Body.Close()
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no HTTP answer within %s", s.timeout)
		case <-tick.C:
		}
	}
}
