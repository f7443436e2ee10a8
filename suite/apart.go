package suite

import (
	"context"

	"github.com/onsi/ginkgo/v2"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner"
)

// apart is the primary fixture's second instance of the adapter, on which
// the spec that waits longest on purpose (HTTP-16's 1.2 s stream) runs
// while the rest of the run goes on (issue 19 item 1), and the instance on
// the second fixture app that EXPORT-4 and PROC-2 use, started with it. Its own instance,
// not the run's: a request overlapping the other specs on one instance
// would let an adapter that shares state between requests answer them
// wrongly, and whether it did would depend on timing; two instances share
// nothing the kit gives them. The stream starts as soon as the instance is
// up and is judged by a spec that runs after every fixture's, so its wait
// is hidden behind theirs.
type apart struct {
	// hosts are the instance's hosts, one per host of the fixture
	// (registered with the fixture's specs).
	hosts []apartHost
	// pending is the instance's start, nil when it was not started.
	pending *pendingStart
	// secondApp is the start of the target on the second fixture app
	// (EXPORT-4, PROC-2), begun with pending's; nil when it was not.
	secondApp *pendingStart
}

// earlyStream is HTTP-16's stream sent ahead of its spec: m is set when
// done is closed.
type earlyStream struct {
	done chan struct{}
	m    longStream
}

// wait returns the stream's measure once it is over, or an exchange that
// says the spec's time ran out first.
func (e *earlyStream) wait(ctx context.Context) longStream {
	select {
	case <-e.done:
		return e.m
	case <-ctx.Done():
		return longStream{ex: &exchange{method: "GET", target: streamTargetWith(longStreamDelay), err: ctx.Err()}}
	}
}

// runsApart reports whether a run starts the apart instance: when every
// spec runs (a focus, a label filter or a shard may leave HTTP-16 out, and
// then it runs in its place on the fixture's instance), and not for a URL
// target, whose every "instance" is the one server. Nor in a ginkgo suite
// of the user's (Register) run with -p, where the apart specs may run in
// another process than the fixture's start, or with --randomize-all, where
// they may run before it: both need the fixture's container first, in the
// same process.
func runsApart(target runner.Target, o *options) bool {
	sc, _ := ginkgo.GinkgoConfiguration()
	return target.Mode() != runner.ModeURL && o.selectsEverything() && sc.ParallelTotal <= 1 && !sc.RandomizeAllSpecs
}

// apartHost is a host of the apart instance, and main its counterpart on
// the fixture's own instance.
type apartHost struct {
	own, main *hostEnv
}

// addHost registers the apart counterpart of the fixture's host h.
func (a *apart) addHost(h *hostEnv) {
	own := &hostEnv{fx: h.fx, shape: h.shape, export: h.export, early: &earlyStream{done: make(chan struct{})}}
	a.hosts = append(a.hosts, apartHost{own: own, main: h})
}

// startApart starts the apart instance in the background once the
// fixture's own start has shown the adapter can be served, and sends
// HTTP-16's stream to each of its hosts as soon as it is up. Nothing here
// judges: the specs registered by registerApart do, from what it kept.
func (fx *fixtureEnv) startApart() {
	a := fx.apart
	if a == nil || !fx.serving.servedBy(fx) {
		return
	}
	// Out of process, the second app's start and stop cost PROC-2 a
	// container's start-up and removal (3.5 s): begun now, they overlap
	// the fixture's specs instead. Only PROC-2, on the start host, uses
	// it out of process (EXPORT-4 applies in process only).
	if fx.target.Mode() == runner.ModeInProcess || fx.inst.HostFor(app.ShapeStart, "") != nil {
		a.secondApp = fx.live.startAsync(fx.target, secondFixture())
		ginkgo.DeferCleanup(func(ctx context.Context) error { return fx.stopApart(ctx, a.secondApp) })
	}
	if len(a.hosts) == 0 {
		return
	}
	a.pending = fx.live.startAsync(fx.target, fx.manifest)
	go func() {
		<-a.pending.done
		for _, h := range a.hosts {
			ah := h.own
			host := a.hostOf(ah)
			if host == nil || host.StartError != nil || !longStreamApplies(ah.shape) {
				close(ah.early.done)
				continue
			}
			go func() {
				defer close(ah.early.done)
				// Bounded by the client's own time limit, and ended by
				// the instance's stop when the run ends first.
				c := newClient(host, fx.timeouts.Request)
				defer c.close()
				ah.early.m = measureLongStream(context.Background(), c)
			}()
		}
	}()
}

// stopApart kills an instance started apart once its start is over: no
// spec judges its shutdown (START-3..5 judge the fixture's own), so an
// adapter that ignores SIGTERM is not waited for again. A start the
// context gives up on is stopped at the run's end (instances.stopAll).
func (fx *fixtureEnv) stopApart(ctx context.Context, p *pendingStart) error {
	if p == nil {
		return nil
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		return nil
	}
	if p.inst == nil {
		return nil
	}
	return fx.serving.stopUnjudged(ctx, p.inst)
}

// hostOf is the apart instance's host for ah, nil when it has none.
func (a *apart) hostOf(ah *hostEnv) *runner.Host {
	if a.pending.inst == nil {
		return nil
	}
	return a.pending.inst.HostFor(ah.shape, ah.export)
}

// apartBody registers the specs that run on the apart instance
// (registerApart declares their container). Their texts are the ones they
// have on the fixture's own instance (registerHTTP), so that a run's
// report reads the same whether or not the spec ran apart (a sharded run
// never does, and its merged report must equal the whole run's).
func apartBody(fx *fixtureEnv) {
	a := fx.apart
	ginkgo.BeforeAll(func() {
		ginkgo.DeferCleanup(func(ctx context.Context) error { return fx.stopApart(ctx, a.pending) })
	})
	for _, h := range a.hosts {
		title := "host " + string(h.own.shape)
		if h.own.export != "" {
			title += " export " + h.own.export
		}
		ginkgo.Describe(title, func() {
			ginkgo.BeforeAll(func(ctx ginkgo.SpecContext) { a.settle(ctx, h) })
			ginkgo.Describe(httpFidelity, func() { registerLongStream(h.own) })
		})
	}
}

// settle sets the apart host up from the fixture's host and the apart
// instance's start: a host the fixture could not check, the apart host
// cannot either.
func (a *apart) settle(ctx context.Context, pair apartHost) {
	ah, h := pair.own, pair.main
	switch {
	case h.notTried != "":
		ah.notTried = h.notTried
	case h.startFailure != "":
		ah.startFailure = h.startFailure
	case h.absent != "":
		ah.absent = h.absent
	case h.host == nil || a.pending == nil:
		ah.notTried = "cannot be checked: the adapter could not be served on fixture " + h.fx.name + " (START-2 says why), so no instance of its own was started for this check"
	default:
		select {
		case <-a.pending.done:
		case <-ctx.Done():
			ah.notTried = "cannot be checked: the instance of its own started for this check did not come up in time: " + ctx.Err().Error()
			return
		}
		host := a.hostOf(ah)
		switch {
		case host == nil:
			why := "it has no " + string(ah.shape) + " host"
			if a.pending.err != nil {
				why = a.pending.err.Error()
			}
			ah.notTried = "cannot be checked: the instance of its own started for this check could not be started: " + firstLine(why)
		case host.StartError != nil:
			ah.notTried = "cannot be checked: the instance of its own started for this check never became ready (START-2 judges the fixture's): " + firstLine(host.StartError.Error())
		default:
			ah.host = host
		}
	}
}

// longStreamApplies reports whether HTTP-16 applies to a host of shape.
func longStreamApplies(shape app.HostShape) bool {
	req, _ := RequirementByID("HTTP-16")
	return req.AppliesToShape(string(shape))
}
