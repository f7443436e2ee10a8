package suite

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner"
)

// instances are the targets' instances a run started, so that the run can
// stop whatever is still up when it ends. The specs stop their own in a
// DeferCleanup, but ginkgo skips the cleanup registered in an Ordered
// container's BeforeAll (and its AfterAll) when an interrupt or the suite
// timeout cuts the container short; without this, a run ended by --timeout
// or Ctrl-C would leave the adapter process, its container and its temporary
// directories behind.
type instances struct {
	mu     sync.Mutex
	live   []*runner.Instance
	closed bool
	// pending are the starts begun in the background (startAsync) that
	// have not returned; stopAll waits for them, and start stops what
	// they bring up after the run closed.
	pending sync.WaitGroup
	// stop bounds the stop of one instance at the end of a run
	// (runner.Timeouts.Stop).
	stop time.Duration
}

// start starts the target for m and remembers the instance. A Start that
// returns after the run ended (a BeforeAll ginkgo abandoned past its grace
// period) has its instance stopped at once.
func (l *instances) start(ctx context.Context, target runner.Target, m *app.Manifest) (*runner.Instance, error) {
	in, err := target.Start(ctx, m)
	if in == nil {
		return nil, err
	}
	l.mu.Lock()
	closed := l.closed
	if !closed {
		l.live = append(l.live, in)
	}
	l.mu.Unlock()
	if closed {
		stopCtx, cancel := context.WithTimeout(context.Background(), l.stop)
		in.Stop(stopCtx)
		cancel()
	}
	return in, err
}

// pendingStart is a start begun in the background: its instance and error
// once done is closed.
type pendingStart struct {
	done chan struct{}
	inst *runner.Instance
	err  error
}

// startAsync starts the target for m in the background (prestart). The
// start is not bound to a spec's context: it belongs to the run, which
// waits for it at its end (stopAll).
func (l *instances) startAsync(target runner.Target, m *app.Manifest) *pendingStart {
	p := &pendingStart{done: make(chan struct{})}
	l.pending.Add(1)
	go func() {
		defer l.pending.Done()
		defer close(p.done)
		p.inst, p.err = l.start(context.Background(), target, m)
	}()
	return p
}

// stopAll stops every instance still up (Stop is idempotent, so those the
// specs stopped cost nothing) and refuses new ones.
func (l *instances) stopAll() {
	l.mu.Lock()
	l.closed = true
	live := l.live
	l.live = nil
	l.mu.Unlock()
	var wg sync.WaitGroup
	for _, in := range live {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), l.stop)
			defer cancel()
			in.Stop(ctx)
		})
	}
	wg.Wait()
	// A background start still running stops its own instance when it
	// returns (the run is closed); the run ends after it.
	l.pending.Wait()
}

// registerRunEnd adds the node that ends a run: it stops what the specs
// left running and records, in the results, a run cut short. A
// ReportAfterSuite, because it is the one node ginkgo runs after an
// interrupt or a suite timeout whatever the specs were doing; it must be
// registered at the top level of the suite.
func registerRunEnd(live *instances, res *Results) {
	ginkgo.ReportAfterSuite("adapter-conformance: stop what is still running", func(r types.Report) {
		live.stopAll()
		if res != nil {
			res.noteCutShort(cutShortReason(r))
		}
	})
}

// cutShortReason says why ginkgo ended the run early, or "".
func cutShortReason(r types.Report) string {
	for _, why := range r.SpecialSuiteFailureReasons {
		switch {
		case strings.HasPrefix(why, "Interrupted"):
			return "the run was interrupted (" + why + ") before every spec had run"
		case why == "Suite Timeout Elapsed":
			return fmt.Sprintf("the run's time limit (%s for the specs) ran out before every spec had run; give it more time", r.SuiteConfig.Timeout.Round(time.Second))
		}
	}
	return ""
}

// cutShort reports whether a spec ended because the whole run was stopped
// (an interrupt, the suite timeout) rather than because of the adapter: it
// then checked nothing, and counting it as a failed requirement would
// blame the adapter for the kit's clock. A spec's own time limit running
// out is the adapter's doing, and stays a failure. Ginkgo v2 gives both
// the same state (SpecStateTimedout) and tells them apart only in the
// failure's message ("A suite timeout occurred" against "A node timeout
// occurred"), as it names an interrupt's cause only in the suite's
// SpecialSuiteFailureReasons: no typed field carries either, so these two
// checks read its text, and nothing else in the kit does.
func cutShort(sr types.SpecReport) bool {
	switch {
	case sr.State.Is(types.SpecStateInterrupted):
		return true
	case sr.State.Is(types.SpecStateTimedout):
		return strings.HasPrefix(sr.Failure.Message, "A suite timeout occurred")
	}
	return false
}
