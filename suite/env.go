package suite

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner"
)

// fixtureEnv is the state shared by the specs of one fixture app: the target
// is started once for the fixture (BeforeAll) and stopped after its last spec.
type fixtureEnv struct {
	target   runner.Target
	name     string
	manifest *app.Manifest
	loadErr  error
	// primary: the general specs run on this fixture (it is basic).
	primary bool
	// recordsDeclaration: this fixture's start records the target's declaration
	// for the report.
	recordsDeclaration bool
	results            *Results // nil unless the caller collects results
	// live is the run's record of started instances, stopped at its end
	// whatever happened to the specs.
	live *instances
	// serving is what the run's first started fixture showed about the
	// adapter as a whole; notTried, set when this fixture is therefore not
	// started, says why its specs cannot be checked.
	serving  *servability
	notTried string

	inst     *runner.Instance
	startErr error
	// hosts are the fixture's hosts whose specs are registered; their
	// clients are closed with the instance (closeClients).
	hosts []*hostEnv
	// others are the run's other fixtures when this run starts them ahead
	// of their turn (prestartOthers), nil when it does not; pending is
	// this fixture's start begun so.
	others  []*fixtureEnv
	pending *pendingStart
	// apart is the primary fixture's second instance, for the spec that
	// waits longest (apart.go); nil when the run does not start one.
	apart *apart

	// The kit's own App for the fixture, built on first use, and what it
	// rendered: RENDER-2's reference out of process.
	referenceOnce sync.Once
	reference     *app.App
	referenceErr  error
	referenceLog  *runner.RenderLog

	// seed and corpus shape the differential corpus (DIFF-1..5).
	seed   uint64
	corpus int
	// timeouts are the target's waits (runner.TimeoutsOf).
	timeouts runner.Timeouts
	// shard is the part of the work this run does (the Shard option).
	shard ShardSpec
	// absentHosts is the run's record of the host shapes, by fixture, the
	// adapter was known at registration not to have (absent.go).
	absentHosts *absentHosts
}

// hostEnv is one host shape of a started fixture.
type hostEnv struct {
	fx    *fixtureEnv
	shape app.HostShape
	// export is the export driven when the adapter has several of this
	// shape; "" for the only (or first) host of the shape.
	export string
	host   *runner.Host
	http   *client
	// http6 sends to the host's IPv6 listener (DIFF-5's peer); nil when
	// the host has none.
	http6 *client
	// absent says why the fixture has no host of this shape.
	absent string
	// shutdownBegan is set once START-3 has stopped the host on purpose.
	shutdownBegan bool
	// startFailure says why a host the target should have has none.
	startFailure string
	// notTried says why the fixture was not started (servability).
	notTried string
	// unansweredSeen is the client's unanswered count settleExit last saw.
	unansweredSeen int64
	// earlier are the specs that already ran on this host, in order, with
	// how each failed ("" when it did not): a later failure that one of
	// them explains says so (followsFrom).
	earlier []earlierSpec
	// diffOnce is the differential corpus run, shared by the DIFF specs.
	diffOnce diffRun
	// early is HTTP-16's stream, sent ahead of its spec, on a host of the
	// apart instance; nil on the fixture's own hosts.
	early *earlyStream
}

// earlierSpec is a spec that ran on a host before the current one.
type earlierSpec struct {
	id      string
	failure string // the failure's "expected: ..." line, "" when it passed
}

// startInstance starts the target for the fixture, or takes the start
// prestartOthers began for it.
func (fx *fixtureEnv) startInstance(ctx context.Context) (*runner.Instance, error) {
	if fx.pending == nil {
		return fx.live.start(ctx, fx.target, fx.manifest)
	}
	select {
	case <-fx.pending.done:
		return fx.pending.inst, fx.pending.err
	case <-ctx.Done():
		return nil, fmt.Errorf("the start of fixture %s, begun in the background, did not end: %w", fx.name, ctx.Err())
	}
}

// prestartOthers starts the other fixtures' instances in the background
// once this fixture's start has shown the adapter can be served (issue 19
// item 3): out of process a start costs a process's or a container's
// start-up and readiness (a second or more for a container), which then
// overlaps this fixture's specs instead of following them. Each instance
// is still its fixture's alone, started with its own manifest and judged
// by its own START specs; only its start comes earlier. Not in process,
// where a start costs nothing, nor when a focus, a label filter or a shard
// may leave a fixture with no spec to run (its instance would start for
// nothing).
func (fx *fixtureEnv) prestartOthers() {
	if fx.others == nil || !fx.serving.servedBy(fx) {
		return
	}
	for _, o := range fx.others {
		if o.loadErr == nil && o.pending == nil {
			o.pending = fx.live.startAsync(fx.target, o.manifest)
		}
	}
}

func registerFixture(fx *fixtureEnv) {
	if fx.primary {
		// Ginkgo runs sibling containers in the order of the lines that
		// declare them, then of their texts: declared here, on an earlier
		// line than the others, the primary fixture runs first (not after
		// "fixture base-app"). Its start is then the one that judges
		// whether the adapter can be served at all (servability), and the
		// general specs are the ones that show why.
		ginkgo.Describe("fixture "+fx.name, ginkgo.Ordered, ginkgo.ContinueOnFailure, func() { fixtureBody(fx) })
		return
	}
	ginkgo.Describe("fixture "+fx.name, ginkgo.Ordered, ginkgo.ContinueOnFailure, func() { fixtureBody(fx) })
}

// registerApart registers the specs that run on the primary fixture's
// apart instance (apart.go). Ginkgo orders containers by where they are
// declared (file, then line), not by when: declared here, below both of
// registerFixture's, they run after every fixture's specs, so that the
// stream they judge has had the whole run to end.
func registerApart(fx *fixtureEnv) {
	ginkgo.Describe("fixture "+fx.name, ginkgo.Ordered, ginkgo.ContinueOnFailure, func() { apartBody(fx) })
}

// fixtureBody registers the nodes and specs of one fixture.
func fixtureBody(fx *fixtureEnv) {
	ginkgo.BeforeAll(func(ctx ginkgo.SpecContext) {
		if fx.loadErr != nil {
			ginkgo.Fail(fmt.Sprintf("fixture %s cannot be loaded: %v", fx.name, fx.loadErr))
		}
		if fx.notTried = fx.serving.notTried(fx); fx.notTried != "" {
			return
		}
		fx.inst, fx.startErr = fx.startInstance(ctx)
		fx.serving.judge(fx)
		// The apart instances first: their specs come first too.
		fx.startApart()
		fx.prestartOthers()
		if fx.recordsDeclaration && fx.results != nil {
			fx.recordDeclaration()
		}
		ginkgo.DeferCleanup(func(ctx context.Context) error {
			fx.closeClients()
			return fx.serving.stop(ctx, fx.target, fx.inst)
		}, ginkgo.NodeTimeout(30*time.Second))
		// After the cleanup is in place: a failure here still stops the instance.
		fx.checkAbsentStillAbsent()
	}, ginkgo.NodeTimeout(2*time.Minute))

	if fx.loadErr != nil {
		// A spec of its own, so the failure shows (a BeforeAll with no
		// spec never runs).
		ginkgo.It("loads the fixture app", func() {})
		return
	}
	if fx.primary {
		registerDeclaration(fx)
		registerExports(fx)
	} else {
		registerFixtureDeclaration(fx)
	}
	for _, key := range fx.hostKeys() {
		shape := key.Shape
		h := &hostEnv{fx: fx, shape: shape, export: key.Export}
		fx.hosts = append(fx.hosts, h)
		if fx.apart != nil {
			fx.apart.addHost(h)
		}
		title := "host " + string(shape)
		if key.Export != "" {
			title += " export " + key.Export
		}
		ginkgo.Describe(title, ginkgo.Ordered, func() {
			ginkgo.BeforeAll(func() {
				if fx.notTried != "" {
					h.notTried = fx.notTried
					return
				}
				h.host = fx.inst.HostFor(shape, key.Export)
				if h.host == nil {
					if why := fx.unsupported(key.Export); why != "" {
						h.absent = "the export " + key.Export + " cannot be driven (EXPORT-1 reports it): " + why
						return
					}
					if fx.startErr != nil && (fx.inst == nil || fx.expects(shape)) {
						h.startFailure = "the target could not be started: " + fx.startErr.Error()
						return
					}
					// Not a Skip here: a skip in BeforeAll reaches the specs
					// without its reason, and the report must say why.
					h.absent = noHostReason(shape, fx.declaredShapes())
					return
				}
				h.http = newClient(h.host, fx.timeouts.Request)
				if h.host.IPv6URL != "" {
					h.http6 = h.http.over(h.host.IPv6URL)
				}
			})
			if fx.primary {
				registerRender(h)
				registerNotFound(h)
				registerErrors(h)
				registerHTTP(h)
				registerRobust(h)
				registerMatch(h)
				registerExportHost(h)
				registerLambda(h)
				registerDiff(h)
			}
			registerVariantSpecs(h)
			registerFidelity(h)
			if shape == app.ShapeStart && !fx.primary {
				// Every fixture's start host must come up and stay up.
				registerReadiness(h)
			}
			if shape == app.ShapeStart && fx.primary {
				registerProcess(h)
				// Last: it shuts the host down.
				registerStart(h)
			}
		})
	}
}

// closeClients closes the clients of the fixture's hosts. It runs in the
// cleanup that stops the instance rather than in an AfterAll of each
// host's container: ginkgo decides whether a run-once node is due after
// each spec by looking through every spec of the fixture, so each such
// node costs a scan of the fixture's specs (hundreds: every requirement
// on every shape) per spec.
func (fx *fixtureEnv) closeClients() {
	for _, h := range fx.hosts {
		if h.http != nil {
			h.http.close()
		}
		if h.http6 != nil {
			h.http6.close()
		}
	}
}

// hostKeys are the hosts whose specs are registered: one per driven shape,
// and, when the target can list its exports before it starts, one per
// export of a shape that has several (each is checked, not only the first).
func (fx *fixtureEnv) hostKeys() []runner.HostKey {
	var listed []runner.HostKey
	if l, ok := fx.target.(runner.HostLister); ok {
		var complete bool
		if listed, complete = l.ListHosts(fx.manifest); complete {
			fx.noteAbsent(listed)
		}
	} else if l, ok := fx.target.(runner.ExportLister); ok {
		listed = l.ListExports(fx.manifest)
	}
	var keys []runner.HostKey
	for _, shape := range shapesDriven {
		var exports []string
		for _, k := range listed {
			if k.Shape == shape {
				exports = append(exports, k.Export)
			}
		}
		if len(exports) < 2 {
			keys = append(keys, runner.HostKey{Shape: shape})
			continue
		}
		for _, e := range exports {
			keys = append(keys, runner.HostKey{Shape: shape, Export: e})
		}
	}
	return keys
}

// unsupported says why the kit found no way to drive an export, or "".
func (fx *fixtureEnv) unsupported(export string) string {
	if export == "" || fx.inst == nil {
		return ""
	}
	return fx.inst.Unsupported[export]
}

func (fx *fixtureEnv) declaredShapes() string {
	if fx.inst == nil {
		return "it was not started"
	}
	hosts := make([]runner.HostKey, len(fx.inst.Hosts))
	for i, h := range fx.inst.Hosts {
		hosts[i] = runner.HostKey{Shape: h.Shape, Export: h.Export}
	}
	return hostsPhrase(hosts)
}

// spec registers one It for one requirement. The ID goes into the text and
// the labels; a requirement that does not apply to the target's mode or the
// host's shape is reported as not applicable rather than passed.
//
// A spec of another shard (the Shard option) carries a label the run's
// filter leaves out: decided here, at registration, from its requirement,
// fixture and shape alone.
func spec(fx *fixtureEnv, id string, shape app.HostShape, text string, body func(ctx ginkgo.SpecContext), extra ...any) {
	mode := fx.target.Mode()
	req, ok := RequirementByID(id)
	if !ok {
		// A kit bug: the project's own tests catch it before release.
		panic(fmt.Sprintf("suite: spec %q names requirement %s, which SPEC.md does not define", text, id))
	}
	labels := ginkgo.Label(id, "area:"+strings.ToLower(req.Area), req.Level)
	if shape != "" {
		labels = append(labels, "shape:"+string(shape))
	}
	if fx.shard.elsewhere(id, fx.name, string(shape)) {
		labels = append(labels, otherShardLabel)
	}
	if inapplicable(req, shape, mode) != "" || fx.absentHosts.reason(fx.name, string(shape)) != "" {
		labels = append(labels, notApplicableLabel)
	}
	args := []any{labels}
	args = append(args, extra...)
	args = append(args, func(ctx ginkgo.SpecContext) {
		if why := inapplicable(req, shape, mode); why != "" {
			skipNotApplicable(why)
		}
		body(ctx)
	})
	ginkgo.It(fmt.Sprintf("[%s] %s", id, text), args...)
}

// inapplicable says why a requirement does not apply to a host shape (""
// for the whole target) or to the target's mode, or "".
func inapplicable(req Requirement, shape app.HostShape, mode runner.Mode) string {
	if shape != "" && !req.AppliesToShape(string(shape)) {
		return req.ID + " does not apply to the " + string(shape) + " host shape"
	}
	if mode != "" && !req.AppliesToMode(string(mode)) {
		return req.ID + " does not apply in " + string(mode) + " mode"
	}
	return ""
}

// currentRequirement is the ID of the requirement the running spec checks:
// the label spec gave it. "" outside a spec, or in a spec spec did not
// register. The leaf's own labels, not its containers', are read, so that
// a label of an enclosing container cannot stand in for it.
func currentRequirement() string {
	return requirementLabel(ginkgo.CurrentSpecReport().LeafNodeLabels)
}

// hostSpecOption is what a spec declares about when it can say anything,
// beside its requirement ID, so that the harness never names an ID.
type hostSpecOption int

const (
	// judgesReadiness: the spec judges the start itself (the host
	// answered, on the listener or address it was given), so it runs,
	// and fails, when the host never became ready; every other spec of
	// the host is then "cannot be checked".
	judgesReadiness hostSpecOption = iota + 1
	// judgesExit: the spec judges whether the adapter process kept
	// running, so it runs when the process has exited; every other spec
	// of the host is then "cannot be checked".
	judgesExit
)

// it registers a spec on a host. extra holds ginkgo decorators and the
// spec's hostSpecOptions. When a start host never became ready, only the
// specs that judge readiness can say anything; when the adapter process
// exited, only those that judge the exit; the rest cannot be checked.
func (h *hostEnv) it(id, text string, body func(ctx ginkgo.SpecContext), extra ...any) {
	readiness, exit := false, false
	var decorators []any
	for _, e := range extra {
		switch e {
		case judgesReadiness:
			readiness = true
		case judgesExit:
			exit = true
		default:
			decorators = append(decorators, e)
		}
	}
	spec(h.fx, id, h.shape, text, func(ctx ginkgo.SpecContext) {
		if h.notTried != "" {
			ginkgo.Skip(h.notTried)
		}
		if h.startFailure != "" {
			ginkgo.Fail(id + ": " + h.startFailure)
		}
		if h.absent != "" {
			skipNotApplicable(h.absent)
		}
		if h.host.StartError != nil && !readiness {
			why, _, _ := strings.Cut(h.host.StartError.Error(), "\n")
			ginkgo.Skip("cannot be checked: follows from START-2, the start host never became ready: " + why)
		}
		if h.host.StartError == nil && h.host.ExitStatus != nil && !exit {
			h.settleExit()
			if st := h.host.ExitStatus(); st != "" && !h.shutdownBegan {
				during := "an earlier spec"
				if n := len(h.earlier); n > 0 {
					during += " (the last to run on this host was " + h.earlier[n-1].id + ")"
				}
				ginkgo.Skip("cannot be checked: follows from PROC-6, the adapter process " + st + " during " + during)
			}
		}
		ginkgo.DeferCleanup(func() {
			failure := ""
			if r := ginkgo.CurrentSpecReport(); r.Failed() {
				failure = expectedLine(r.Failure.Message)
			}
			h.earlier = append(h.earlier, earlierSpec{id: id, failure: failure})
		})
		if h.host.Logs != nil {
			// PROC-6: what the adapter wrote goes into the report of a failed spec.
			ginkgo.DeferCleanup(func() {
				if ginkgo.CurrentSpecReport().Failed() {
					// The exit first, then the logs: read after the engine
					// saw the process end, they hold its last words. A
					// request that went unanswered may be the process
					// ending (a crash): its exit, and with it the end of
					// its output, may come a moment after the client saw
					// the connection drop, later on a loaded machine.
					h.settleExit()
					st := h.host.ExitStatus()
					logs := logTail(h.host.Logs())
					if st != "" {
						logs = "the adapter process " + st + "\n" + logs
					}
					ginkgo.AddReportEntry("adapter-logs", logs, ginkgo.ReportEntryVisibilityFailureOrVerbose)
				}
			})
		}
		body(ctx)
	}, decorators...)
}

// followsFrom says, for a failure message, which earlier failure on this
// host may explain it: the first of ids that failed before the current
// spec, with what it expected. "" when none did. A fault such as a
// catch-all route fails its own requirement first (NOTFOUND-1) and then
// every later check that relies on a 404; saying so points the author at
// the cause rather than at the symptom.
func (h *hostEnv) followsFrom(ids ...string) string {
	for _, id := range ids {
		for _, e := range h.earlier {
			if e.id == id && e.failure != "" {
				return "this may follow from " + id + ", which failed earlier on the " + string(h.shape) + " host: " + e.failure + "\n"
			}
		}
	}
	return ""
}

// withCause adds to a failure message the earlier failure it may follow
// from, when there is one.
func withCause(f func() string, cause func() string) func() string {
	return func() string { return f() + cause() }
}

// specLogSize bounds the adapter output attached to one failed spec: the
// end, where a crash is, is what explains the failure, and a run with many
// failures would otherwise put the whole log in the reports once per failure.
const specLogSize = 32 << 10

// logTail is the last specLogSize bytes of an adapter's output, saying so
// when it is not all of it.
func logTail(logs string) string {
	if len(logs) <= specLogSize {
		return logs
	}
	return fmt.Sprintf("[adapter-conformance: %d earlier bytes of the adapter's output left out; the last %d follow]\n%s",
		len(logs)-specLogSize, specLogSize, logs[len(logs)-specLogSize:])
}

// exitSettle bounds how long a spec waits for the engine to report the
// end of an adapter that stopped answering during the previous spec.
const exitSettle = time.Second

// settleExit waits, after requests went unanswered since the last spec,
// until the host's exit status shows or exitSettle passes. A container's
// end reaches the engine's state a moment after its port stops answering;
// without the wait, the next spec would fail on a dead adapter instead of
// being reported as not checkable (see PROC-6).
func (h *hostEnv) settleExit() {
	if h.http == nil {
		return
	}
	n := h.http.unanswered.Load()
	if n == h.unansweredSeen {
		return
	}
	h.unansweredSeen = n
	deadline := time.Now().Add(exitSettle)
	for h.host.ExitStatus() == "" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
}

// it registers a spec about the target as a whole (no host shape).
func (fx *fixtureEnv) it(id, text string, body func(ctx ginkgo.SpecContext), extra ...any) {
	spec(fx, id, "", text, func(ctx ginkgo.SpecContext) {
		if fx.notTried != "" {
			ginkgo.Skip(fx.notTried)
		}
		body(ctx)
	}, extra...)
}

// recordDeclaration keeps what the target declared, for the report.
func (fx *fixtureEnv) recordDeclaration() {
	switch {
	case fx.inst == nil:
		fx.results.setDeclaration(nil, "the target could not be started: "+errString(fx.startErr))
	case fx.inst.DescribeError != nil:
		fx.results.setDeclaration(nil, fx.inst.DescribeError.Error())
	default:
		if a, ok := fx.inst.Declaration.Adapter(); ok {
			fx.results.setDeclaration(&a, "")
		} else if fx.target.Mode() == runner.ModeURL {
			fx.results.setDeclaration(nil, "a URL target declares nothing")
		} else {
			fx.results.setDeclaration(nil, "SetAdapter was not called")
		}
	}
}

// declares reports whether the target's declaration names the host shape.
func (fx *fixtureEnv) declares(shape app.HostShape) bool {
	if fx.inst == nil {
		return false
	}
	a, ok := fx.inst.Declaration.Adapter()
	return ok && slices.Contains(a.Shapes, shape)
}

// expects reports whether a target that failed to start should have had a
// host of this shape: an out-of-process target always has a start host, or
// the Lambda shape it declares. (In-process, a failed start is a declaration
// problem, which the DECL specs report.)
func (fx *fixtureEnv) expects(shape app.HostShape) bool {
	if fx.target.Mode() == runner.ModeInProcess {
		return false
	}
	return shape == app.ShapeStart || fx.declares(shape)
}
