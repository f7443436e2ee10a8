package suite

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/adapterconformance/adapter-conformance/runner"
)

// servability is what a run learned from the first fixture it started
// about the adapter as a whole (issue 19 item 4). An adapter that never
// becomes ready, hangs on every request or exits before serving shows it on
// that fixture, within the readiness time; starting it again for every
// other fixture would only wait that long again (six fixtures, a minute
// and more) to learn nothing new. So the later fixtures are not started:
// their specs are skipped as "cannot be checked", with the first fixture's
// reason, which is what they are (not passed, and not failed a second time
// for the same fault). Likewise an adapter that ignored SIGTERM once (its
// stop outlived the grace period, START-5 on the primary fixture) is killed
// at once when later fixtures stop, instead of waiting out the grace period
// each time: the verdict on SIGTERM is given, and nothing later checks it.
type servability struct {
	mu sync.Mutex
	// judgedBy is the fixture whose start decided; "" until one started.
	judgedBy string
	// unservable says why the adapter cannot be served, "" when it can.
	unservable string
	// ignoresSIGTERM: a stop of this run outlived the grace period.
	ignoresSIGTERM bool
}

// judge records what the first started fixture showed; later calls change
// nothing (a fixture-specific start failure after a good first fixture is
// that fixture's own, and its specs report it).
func (s *servability) judge(fx *fixtureEnv) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.judgedBy != "" {
		return
	}
	s.judgedBy = fx.name
	s.unservable = unservableReason(fx)
}

// servedBy reports whether fx is the fixture whose start decided, and it
// showed the adapter can be served.
func (s *servability) servedBy(fx *fixtureEnv) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.judgedBy == fx.name && s.unservable == ""
}

// notTried says why a fixture is not started, "" when it must be.
func (s *servability) notTried(fx *fixtureEnv) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unservable == "" || s.judgedBy == fx.name {
		return ""
	}
	return "cannot be checked: the adapter could not be served on fixture " + s.judgedBy +
		", so fixture " + fx.name + " was not started again (see START-2 on " + s.judgedBy + "): " + s.unservable
}

// noteStop records what an instance's stop showed: a process or container
// that outlived SIGTERM's grace period.
func (s *servability) noteStop(err error) {
	if errors.Is(err, runner.ErrIgnoredSIGTERM) {
		s.mu.Lock()
		s.ignoresSIGTERM = true
		s.mu.Unlock()
	}
}

// stopContext is the context a fixture's instance is stopped with: without
// the grace period once the adapter has shown it ignores SIGTERM.
func (s *servability) stopContext(ctx context.Context) context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ignoresSIGTERM {
		return runner.WithoutGrace(ctx)
	}
	return ctx
}

// unservableReason says why a started fixture shows the adapter cannot be
// served at all, or "". In-process, a start error with an instance is a
// declaration problem of the fixture (the DECL specs report it), not a
// fault of serving.
func unservableReason(fx *fixtureEnv) string {
	if fx.startErr != nil && (fx.inst == nil || fx.target.Mode() != runner.ModeInProcess) {
		return "the target could not be started: " + firstLine(fx.startErr.Error())
	}
	if fx.inst == nil {
		return ""
	}
	for _, h := range fx.inst.Hosts {
		if h.StartError != nil {
			return "the " + string(h.Shape) + " host never became ready: " + firstLine(h.StartError.Error())
		}
	}
	return ""
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// stop stops an instance of the run's target: at once when the adapter has
// already shown it ignores SIGTERM, and noting whether this stop showed it.
func (s *servability) stop(ctx context.Context, target runner.Target, inst *runner.Instance) error {
	err := inst.Stop(s.stopContext(ctx))
	s.noteShutdowns(target, inst)
	return err
}

// stopUnjudged stops an instance whose shutdown no spec judges: the second
// app EXPORT-4 and PROC-2 start to see that an export serves the manifest
// it is given. START-4 and START-5 judge SIGTERM on the fixture's own
// instance; sending it here as well would only wait out the grace period
// once more for an adapter that ignores it (issue 19 item 4), so this
// instance is killed at once.
func (s *servability) stopUnjudged(ctx context.Context, inst *runner.Instance) error {
	return inst.Stop(runner.WithoutGrace(ctx))
}

// noteShutdowns records, once an instance has stopped, whether a shutdown
// of its out-of-process hosts outlived the grace period. Their Shutdown
// runs once and returns the same result on every later call, so reading it
// here sends no signal. (In-process, Shutdown waits for Start again, and
// there is no SIGTERM to ignore.)
func (s *servability) noteShutdowns(target runner.Target, inst *runner.Instance) {
	if inst == nil || target.Mode() == runner.ModeInProcess {
		return
	}
	for _, h := range inst.Hosts {
		if h.Shutdown != nil {
			s.noteStop(h.Shutdown(context.Background()))
		}
	}
}
