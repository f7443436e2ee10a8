package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner/contract"
)

// InProcess is a target given as Go values: an integration whose config-done
// hook declares the adapter and its server entrypoint.
func InProcess(name string, integration app.Integration, opts ...Option) Target {
	t := &inProcess{name: name, integration: integration, settings: defaultSettings()}
	for _, o := range opts {
		o(&t.settings)
	}
	return t
}

// Option tunes how a target is run.
type Option func(*settings)

type settings struct {
	timeouts Timeouts
	env      []string
	name     string
	noCache  bool
}

func defaultSettings() settings {
	return settings{timeouts: DefaultTimeouts()}
}

// Timeouts are the waits the target runs with (TimeoutsOf).
func (s settings) Timeouts() Timeouts { return s.timeouts }

// WithReadinessTimeout sets Timeouts.Readiness: how long a host may take
// to answer (default 10 s, DefaultTimeouts). The kit's own tests shorten it.
func WithReadinessTimeout(d time.Duration) Option { return WithTimeouts(Timeouts{Readiness: d}) }

// WithGracePeriod sets Timeouts.Grace: how long a process may take to exit
// after SIGTERM before it is killed (default contract.GracePeriod).
func WithGracePeriod(d time.Duration) Option { return WithTimeouts(Timeouts{Grace: d}) }

// WithEnv adds KEY=VALUE pairs to an out-of-process adapter's environment.
func WithEnv(kv ...string) Option { return func(s *settings) { s.env = append(s.env, kv...) } }

// WithName names the target in reports (default: the path's base name).
func WithName(name string) Option { return func(s *settings) { s.name = name } }

// WithoutImageCache makes a container target (runner/container) build its
// image afresh and remove it when it is closed, instead of reusing and
// keeping an image built earlier from the same build context. Other
// targets ignore it.
func WithoutImageCache() Option { return func(s *settings) { s.noCache = true } }

type inProcess struct {
	name        string
	integration app.Integration
	settings
}

func (t *inProcess) Name() string { return t.name }
func (t *inProcess) Mode() Mode   { return ModeInProcess }

// readinessTimeout bounds how long a Start-shape host may take to accept
// connections (START-2).
const readinessTimeout = 10 * time.Second

func (t *inProcess) Start(ctx context.Context, m *app.Manifest) (*Instance, error) {
	in := &Instance{Target: t.name, Mode: ModeInProcess, Unsupported: map[string]string{}}
	in.Declaration = contract.Declare(t.integration, m)
	adapter, ok := in.Declaration.Adapter()
	if !ok {
		return in, errors.New("the config-done hook did not call SetAdapter, so there is no server entrypoint to start")
	}
	ep := adapter.ServerEntrypoint
	if ep == nil || (ep.CreateExports == nil && ep.Start == nil) {
		return in, errors.New("the declared adapter has no server entrypoint with CreateExports or Start")
	}
	renders := &RenderLog{}
	mc := *m
	mc.Observer = renders.Observer()
	if ep.CreateExports != nil {
		in.Exports, in.ExportsError = contract.CreateExports(ep.CreateExports, &mc)
		names := make([]string, 0, len(in.Exports))
		for name := range in.Exports {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if h := exportHost(name, in.Exports[name], adapter.Shapes, renders, in); h != nil {
				in.Hosts = append(in.Hosts, h)
			}
		}
	}
	if ep.Start != nil {
		h, err := startHost(ctx, ep.Start, &mc, renders, in, t.timeouts.Readiness)
		if h == nil {
			return in, err
		}
		// A host that never became ready is kept, with its error, so that
		// START-1 and START-2 can report it.
		h.StartError = err
		in.Hosts = append(in.Hosts, h)
	}
	return in, nil
}

// ListExports declares the integration and creates its exports once for
// the manifest, to name them and their host shapes in the order Start puts
// them behind hosts. It returns nil when that fails or takes longer than
// Timeouts.Describe (it runs while the suite's specs are being
// registered): Start then reports the problem. The exports it creates are
// values, not servers, and are dropped; a CreateExports that hangs keeps
// its goroutine, since nothing can stop a call in the same process.
func (t *inProcess) ListExports(m *app.Manifest) []HostKey {
	keys, _ := t.ListHosts(m)
	return slices.DeleteFunc(keys, func(k HostKey) bool { return k.Shape == app.ShapeStart })
}

// ListHosts is ListExports and, last as Start puts it, the Start host when
// the entrypoint has a Start. ok is false when the list may not be what
// Start will give: the hook declared no adapter or no entrypoint, or
// CreateExports failed or did not return within Timeouts.Describe.
func (t *inProcess) ListHosts(m *app.Manifest) (hosts []HostKey, ok bool) {
	if m == nil {
		return nil, false
	}
	d := contract.Declare(t.integration, m)
	adapter, ok := d.Adapter()
	ep := adapter.ServerEntrypoint
	if !ok || ep == nil || (ep.CreateExports == nil && ep.Start == nil) {
		return nil, false
	}
	var keys []HostKey
	complete := true
	if ep.CreateExports != nil {
		type created struct {
			exports map[string]any
			err     error
		}
		done := make(chan created, 1)
		go func() {
			mc := *m
			exports, err := contract.CreateExports(ep.CreateExports, &mc)
			done <- created{exports, err}
		}()
		var c created
		select {
		case c = <-done:
		case <-time.After(t.timeouts.Describe):
			return nil, false
		}
		complete = c.err == nil
		for _, name := range slices.Sorted(maps.Keys(c.exports)) {
			if shape, _, why := contract.ClassifyFor(c.exports[name], adapter.Shapes); why == "" && shape != "" {
				keys = append(keys, HostKey{Shape: shape, Export: name})
			}
		}
	}
	if ep.Start != nil {
		keys = append(keys, HostKey{Shape: app.ShapeStart, Export: "start"})
	}
	return keys, complete
}

// exportHost puts an export behind an httptest server shaped like its host.
// declared are the adapter's declared shapes, which place a Lambda handler
// with no typed event (a lambda.Handler).
func exportHost(name string, v any, declared []app.HostShape, renders *RenderLog, in *Instance) *Host {
	shape, middleware, why := contract.ClassifyFor(v, declared)
	if shape == "" {
		in.Unsupported[name] = why
		return nil
	}
	if shape.IsLambda() {
		// A Lambda handler: behind the emulated gateway of its event type
		// (or of the declared shape, for a handler with no typed event).
		return lambdaExportHost(name, v, shape, renders, in)
	}
	h := &Host{Shape: shape, Export: name, Middleware: middleware, Renders: renders, Faults: &FaultLog{}, NextCalls: &atomic.Int64{}}
	var handler http.Handler
	switch f := v.(type) {
	case http.Handler:
		handler = f
	case func(http.ResponseWriter, *http.Request):
		handler = http.HandlerFunc(f)
	case app.FetchFunc:
		handler = contract.FetchHandler(f, h.Faults.record)
	case func(*http.Request) (*http.Response, error):
		handler = contract.FetchHandler(f, h.Faults.record)
	case app.MiddlewareFunc:
		handler = wrapNext(f, h.NextCalls)
	case func(http.Handler) http.Handler:
		handler = wrapNext(f, h.NextCalls)
	}
	if handler == nil {
		in.Unsupported[name] = "the middleware export returned a nil handler"
		return nil
	}
	srv := httptest.NewUnstartedServer(handler)
	// A panicking handler is logged by net/http; keep that out of the
	// user's terminal; the spec reports the failed exchange instead.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Listener = newDualListener(srv.Listener, listenLoopback6())
	srv.Start()
	h.URL, h.IPv6URL = srv.URL, ipv6URL(srv.Listener)
	in.onStop(func(context.Context) error { srv.CloseClientConnections(); srv.Close(); return nil })
	return h
}

// wrapNext calls a middleware export with the kit's next handler; a
// middleware that panics while wrapping gives no handler (EXPORT-1).
func wrapNext(mw func(http.Handler) http.Handler, calls *atomic.Int64) (h http.Handler) {
	defer func() {
		if recover() != nil {
			h = nil
		}
	}()
	return mw(nextHandler(calls))
}

// startHost runs Start on a fresh loopback listener and waits until the
// listener accepts HTTP (START-1, START-2).
func startHost(ctx context.Context, start func(context.Context, *app.Manifest, net.Listener) error, m *app.Manifest, renders *RenderLog, in *Instance, readiness time.Duration) (*Host, error) {
	ln4, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening on 127.0.0.1: %w", err)
	}
	// Start gets one listener that accepts on both loopbacks (DIFF-5).
	ln := newDualListener(ln4, listenLoopback6())
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	exited := make(chan struct{})
	var startErr error // written once, before exited is closed
	go func() {
		defer close(exited)
		defer func() {
			if p := recover(); p != nil {
				startErr = fmt.Errorf("Start panicked: %s", fmtPanic(p))
			}
		}()
		startErr = start(runCtx, m, ln)
	}()
	h := &Host{Shape: app.ShapeStart, Export: "start", URL: "http://" + ln.Addr().String(), IPv6URL: ipv6URL(ln), Renders: renders, Faults: &FaultLog{}, NextCalls: &atomic.Int64{}}
	h.Shutdown = func(ctx context.Context) error {
		cancel()
		select {
		case <-exited:
			return startErr
		case <-ctx.Done():
			return fmt.Errorf("Start did not return after its context was cancelled: %w", ctx.Err())
		}
	}
	in.onStop(func(ctx context.Context) error {
		ctx, c := context.WithTimeout(ctx, 10*time.Second)
		defer c()
		h.Shutdown(ctx)
		// The kit made the listener, so the kit closes it; not when Start
		// returns, or a Start that leaves its server running would be
		// hidden (START-4).
		ln.Close()
		return nil
	})
	if err := waitReady(ctx, h.URL, readiness, exited, func() error { return startErr }); err != nil {
		return h, err
	}
	return h, nil
}

// probeClient is the readiness probe's client. It never follows a
// redirect: any HTTP answer means ready (START-2 says "with any status"), so
// a server that answers / with a redirect, even one to itself, is ready at
// once rather than failing every probe with "stopped after 10 redirects".
func probeClient() *http.Client {
	return &http.Client{
		Timeout:       time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// waitReady polls the URL until any HTTP answer comes back, Start returns,
// or readinessTimeout passes.
func waitReady(ctx context.Context, url string, readiness time.Duration, exited <-chan struct{}, exitErr func() error) error {
	ctx, cancel := context.WithTimeout(ctx, readiness)
	defer cancel()
	client := probeClient()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/", nil)
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return nil
		}
		if ctx.Err() == nil {
			last = err
		}
		select {
		case <-exited:
			err := exitErr()
			if err == nil {
				err = errors.New("Start returned nil before serving")
			}
			return fmt.Errorf("start exited before it was ready: %w", err)
		case <-ctx.Done():
			// The last probe's error tells a port nobody listens on from
			// one that accepts and never answers, or answers garbage.
			return fmt.Errorf("start did not answer HTTP on %s within %s%s", url, readiness, lastProbe(last))
		case <-tick.C:
		}
	}
}

// lastProbe says what the last readiness probe that ended before the
// deadline got, for the error of a start that never answered.
func lastProbe(err error) string {
	if err == nil {
		return ""
	}
	var ue *neturl.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return " (the last attempt: " + err.Error() + ")"
}

func fmtPanic(p any) string { return fmt.Sprint(p) }
