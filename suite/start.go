package suite

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/adapterconformance/adapter-conformance/runner"
)

// registerStart checks the start contract (START area). It must be the last
// group of the start host: START-3 shuts the host down.
func registerStart(h *hostEnv) {
	var (
		shutdownOnce  sync.Once
		shutdownErr   error
		shutdownTook  time.Duration
		inflight      *exchange
		inflightBody  string
		inflightErr   error
		newConnErr    error
		newConnAnswer string
	)
	// shutdown sends a streamed request, begins the shutdown while it is in
	// flight, tries a new connection, and records everything for START-3..5.
	shutdown := func(ctx context.Context) {
		shutdownOnce.Do(func() {
			if h.host.Shutdown == nil {
				shutdownErr = errNoShutdown
				return
			}
			inflight = h.http.start(ctx, "GET", streamTarget(), nil)
			var r *bufio.Reader
			var first string
			if inflight.err == nil {
				r = bufio.NewReader(inflight.resp.Body)
				first, _ = r.ReadString('\n')
			}
			h.shutdownBegan = true
			done := make(chan struct{})
			began := time.Now()
			go func() {
				defer close(done)
				sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.fx.timeouts.Grace)
				defer cancel()
				shutdownErr = h.host.Shutdown(sctx)
				shutdownTook = time.Since(began)
			}()
			newConnAnswer, newConnErr = tryNewConnection(ctx, h.host.URL, h.host.Signalled, done, h.fx.timeouts.ShutdownReaction)
			if inflight.err != nil {
				inflightErr = inflight.err
			} else {
				rest, err := io.ReadAll(r)
				inflight.resp.Body.Close()
				inflightBody, inflightErr = first+string(rest), err
			}
			<-done
		})
	}
	ginkgo.Describe("the start contract", func() {
		h.it("START-2", "start answers HTTP within the readiness time", func(ctx ginkgo.SpecContext) {
			Expect(h.host.StartError).NotTo(HaveOccurred(), explain("an HTTP answer within "+h.fx.timeouts.Readiness.String()+" of "+h.startedWhat()))
		}, judgesReadiness)
		h.it("START-1", "start serves the fixture on the listener it was given", func(ctx ginkgo.SpecContext) {
			if h.host.StartError != nil {
				// Asking again would only wait for the client's time limit
				// on an adapter that hangs: readiness already asked, for
				// the whole readiness time.
				ginkgo.Fail(explain("the fixture's index page from GET / on the listener it was given; it never answered: " + firstLine(h.host.StartError.Error()))())
			}
			ex := h.get(ctx, "/")
			expectStatus(ex, 200)
			expectRoute(ex, "/", nil)
		}, judgesReadiness)
		h.it("START-3", "in-flight requests complete when shutdown begins", func(ctx ginkgo.SpecContext) {
			shutdown(ctx)
			Expect(inflightErr).NotTo(HaveOccurred(), explain("the in-flight /api/stream request to complete", inflight))
			Expect(strings.Count(inflightBody, "\n")).To(Equal(3), explain("all three chunks; got "+quoteOrNone(inflightBody), inflight))
		})
		h.it("START-4", "new connections are refused once shutdown began", func(ctx ginkgo.SpecContext) {
			shutdown(ctx)
			Expect(newConnAnswer).To(BeEmpty(), explain("no response to a request on a new connection after shutdown began; got "+newConnAnswer))
			Expect(newConnErr).To(HaveOccurred(), explain("a refused or closed connection"))
		})
		h.it("START-5", "Start returns nil within the grace period", func(ctx ginkgo.SpecContext) {
			shutdown(ctx)
			expected := "Start to return nil within " + h.fx.timeouts.Grace.String() + " of its context being cancelled"
			if h.outOfProcess() {
				expected = "the process to exit with status 0 within the grace period after SIGTERM"
			}
			Expect(shutdownErr).NotTo(HaveOccurred(), explain(expected+" (shutdown took "+shutdownTook.String()+")"))
		})
		h.it("PROC-8", "the adapter's process tree ends with it", func(ctx ginkgo.SpecContext) {
			if h.host.LeftBehind == nil {
				skipNotApplicable("the kit cannot see this target's processes")
			}
			shutdown(ctx)
			// Members of its group got SIGTERM with it: give them a moment.
			Eventually(h.host.LeftBehind, 2*time.Second, 20*time.Millisecond).Should(BeEmpty(), func() string {
				return explain("no process the adapter started still running once it has been told to stop; still running: " + strings.Join(h.host.LeftBehind(), "; "))()
			})
		})
		h.it("START-6", "start binds the host it is told", func(ctx ginkgo.SpecContext) {
			Expect(h.host.StartError).NotTo(HaveOccurred(), explain("an answer on the address the kit gave in HOST ("+h.host.URL+")"))
		}, judgesReadiness)
	})
}

// outOfProcess: the start host is a process or a container, stopped with
// SIGTERM and judged by its exit status, not a Start function.
func (h *hostEnv) outOfProcess() bool { return !h.modeIs(runner.ModeInProcess) }

// startedWhat is what START-2's 10 seconds count from.
func (h *hostEnv) startedWhat() string {
	if h.outOfProcess() {
		return "the process being started"
	}
	return "Start being called"
}

var errNoShutdown = errorString("the host has no way to shut it down")

type errorString string

func (e errorString) Error() string { return string(e) }

// tryNewConnection dials the server after shutdown began and reports the
// dial error, or what a request on a new connection got. A server may still
// answer in the instants before it acts on the shutdown (a signal is
// delivered asynchronously), so answers are retried for reaction
// (runner.Timeouts.ShutdownReaction), or until the shutdown is over, and
// then tried once more. The reaction time counts from when the adapter was
// told to stop: signalled, when the host says when that was (a container's
// engine can take longer than the reaction time to deliver SIGTERM), else
// from now.
func tryNewConnection(ctx context.Context, base string, signalled, shutdownDone <-chan struct{}, reaction time.Duration) (string, error) {
	u, _ := url.Parse(base)
	if signalled != nil {
		select {
		case <-signalled:
		case <-shutdownDone:
		case <-ctx.Done():
		}
	}
	deadline := time.Now().Add(reaction)
	ask := func() (string, error) {
		conn, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", u.Host)
		if err != nil {
			return "", err
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(time.Second))
		io.WriteString(conn, "GET / HTTP/1.1\r\nHost: "+u.Host+"\r\nConnection: close\r\n\r\n")
		line, err := bufio.NewReader(conn).ReadString('\n')
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			// Accepted but never served nor closed: not refused.
			return "(the connection was accepted, then neither answered nor closed)", nil
		}
		if err != nil {
			return "", err
		}
		return strings.TrimSpace(line), nil
	}
	for time.Now().Before(deadline) {
		if _, err := ask(); err != nil {
			return "", err
		}
		select {
		case <-shutdownDone:
			// Start has returned (or the process exited): nothing may answer now.
			return ask()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return ask()
}

// registerReadiness checks, on a fixture other than the primary one, that
// the start host came up and is still up (START-2, PROC-6): otherwise every
// other spec of the fixture would only be skipped.
func registerReadiness(h *hostEnv) {
	h.it("START-2", "start answers HTTP within the readiness time", func(ctx ginkgo.SpecContext) {
		Expect(h.host.StartError).NotTo(HaveOccurred(), explain("an HTTP answer within "+h.fx.timeouts.Readiness.String()+" of "+h.startedWhat()+" for fixture "+h.fx.name))
	}, judgesReadiness)
	h.it("PROC-6", "the process keeps running until SIGTERM", func(ctx ginkgo.SpecContext) {
		if h.host.ExitStatus == nil {
			skipNotApplicable("the host does not run as a process")
		}
		Expect(h.host.ExitStatus()).To(BeEmpty(), explain("the adapter process still running after the suite's requests"))
	}, judgesExit)
}
