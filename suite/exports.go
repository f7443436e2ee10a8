package suite

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/fixtures"
	"github.com/adapterconformance/adapter-conformance/runner"
)

// registerExportHost checks the exports contract through one host (EXPORT-2..4).
func registerExportHost(h *hostEnv) {
	ginkgo.Describe("the export", func() {
		h.it("EXPORT-2", "a fetch export returns a response or an error, never both or neither, and never panics", func(ctx ginkgo.SpecContext) {
			for _, c := range renderCorpus {
				ex := h.do(ctx, c.method, c.target, nil)
				Expect(ex.faults()).To(BeEmpty(), explain("no contract breach by the fetch export", ex))
				mustRespond(ex)
			}
		})
		// EXPORT-3: an HTTP host serves requests concurrently. EXPORT-5:
		// Lambda gives an environment one invocation at a time unless it runs on
		// Managed Instances, so there it is a SHOULD (SPEC.md).
		h.it("EXPORT-3", "the export serves concurrent requests correctly", h.expectConcurrentRequestsServed)
		h.it("EXPORT-5", "the Lambda handler serves concurrent invocations correctly", h.expectConcurrentRequestsServed)
		h.it("EXPORT-4", "the export renders the manifest it was created from", func(ctx ginkgo.SpecContext) {
			h.expectOwnManifest(ctx)
		})
	})
}

// expectConcurrentRequestsServed sends 50 requests at once, spread over
// routes, half of them POSTing a distinct body to the echo, and expects
// each its own answer (EXPORT-3, EXPORT-5).
func (h *hostEnv) expectConcurrentRequestsServed(ctx ginkgo.SpecContext) {
	paths := []struct{ path, route string }{{"/about", "/about"}, {"/blog/one", "/blog/[slug]"}, {"/docs/x/y", "/docs/[...path]"}, {"/en/intro", "/[lang]/intro"}, {"/", "/"}}
	const n = 50
	// Every other request POSTs a body of its own: state shared
	// between requests (a copy buffer) mixes them up.
	bodies := make([][]byte, n)
	for i := 0; i < n; i += 2 {
		bodies[i] = concurrentBody(i)
	}
	exs := make([]*exchange, n)
	c := h.http.patient(h.fx.timeouts.Concurrent)
	defer c.close()
	var wg sync.WaitGroup
	for i := range n {
		if bodies[i] != nil {
			wg.Go(func() {
				exs[i] = c.send(ctx, "POST", "/api/echo", bodies[i], header("Content-Type", "application/json"))
			})
			continue
		}
		wg.Go(func() { exs[i] = c.send(ctx, "GET", paths[i%len(paths)].path, nil) })
	}
	wg.Wait()
	for i, ex := range exs {
		if body := bodies[i]; body != nil {
			// The exchange is attached without the 256 KiB body.
			ex.reqBody = body[:64]
			attach(ex)
			e := echoOf(ex)
			cause := func() string { return h.followsFrom("HTTP-11") }
			Expect(e.BodyLength).To(Equal(len(body)), withCause(explain("the echo of this request's own "+itoa(len(body))+"-byte body", ex), cause))
			Expect(e.BodySHA256).To(Equal(sha(body)), withCause(explain("the echo of this request's own body (request "+itoa(i)+", SHA-256 "+sha(body)+"), not another request's", ex), cause))
			continue
		}
		attach(ex)
		expectStatus(ex, 200)
		expectRoute(ex, paths[i%len(paths)].route, nil)
	}
}

// concurrentBodySize is the size of EXPORT-3's request bodies: large
// enough to take several reads and buffer copies.
const concurrentBodySize = 256 << 10

// concurrentBody is EXPORT-3's JSON body for request i, distinct from
// every other request's in all of its bytes, not only at the start.
func concurrentBody(i int) []byte {
	head := []byte(`{"request":` + itoa(i) + `,"pad":"`)
	b := make([]byte, 0, concurrentBodySize)
	b = append(b, head...)
	x := uint32(i)*2654435761 + 1
	for len(b) < concurrentBodySize-2 {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b = append(b, 'a'+byte(x%26))
	}
	return append(b, '"', '}')
}

// expectOwnManifest starts the target again on a second fixture app and
// checks that what it serves is that app (EXPORT-4, PROC-2).
func (h *hostEnv) expectOwnManifest(ctx context.Context) {
	inst, err := h.fx.secondApp(ctx)
	Expect(err).NotTo(HaveOccurred(), explain("the adapter to start with a second fixture app"))
	Expect(inst).NotTo(BeNil(), explain("the adapter to start with a second fixture app"))
	host := inst.Host(h.shape)
	Expect(host).NotTo(BeNil(), explain("a "+string(h.shape)+" host for the second fixture"))
	Expect(host.StartError).NotTo(HaveOccurred(), explain("the adapter to become ready with the second fixture app"))
	c := newClient(host, h.fx.timeouts.Request)
	defer c.close()
	ex := c.send(ctx, "GET", "/only-in-second", nil)
	attach(ex)
	expectStatus(ex, http.StatusOK)
	expectRoute(ex, "/only-in-second", nil)
	ex = c.send(ctx, "GET", "/about", nil)
	attach(ex)
	mustRespond(ex)
	if host.Middleware {
		Expect(ex.resp.Header.Get(runner.NextHeader)).To(Equal("1"), withCause(explain("/about, absent from the second fixture, to go to next", ex),
			func() string { return h.followsFrom("MATCH-1") }))
	} else {
		Expect(ex.status()).To(Equal(http.StatusNotFound), withCause(explain("status 404 for /about, a route the second fixture does not have", ex),
			func() string { return h.followsFrom("NOTFOUND-1", "NOTFOUND-3") }))
	}
}

// secondApp is the target started on the second fixture app: the one
// begun in the background when the fixture started (startApart), or one
// started now and stopped at the end of the spec.
func (fx *fixtureEnv) secondApp(ctx context.Context) (*runner.Instance, error) {
	if a := fx.apart; a != nil && a.secondApp != nil {
		select {
		case <-a.secondApp.done:
			return a.secondApp.inst, a.secondApp.err
		case <-ctx.Done():
			return nil, fmt.Errorf("the start with the second fixture app, begun in the background, did not end: %w", ctx.Err())
		}
	}
	inst, err := fx.live.start(ctx, fx.target, secondFixture())
	ginkgo.DeferCleanup(func(ctx context.Context) error { return fx.serving.stopUnjudged(ctx, inst) })
	return inst, err
}

// secondFixture is basic without /about and with a route of its own, so an
// export that ignores the manifest it is given shows.
func secondFixture() *app.Manifest {
	m, err := fixtures.Load("basic")
	Expect(err).NotTo(HaveOccurred())
	m.Name = "second"
	var routes []*app.Route
	for _, r := range m.Routes {
		if r.Pattern != "/about" {
			routes = append(routes, r)
		}
	}
	m.Routes = append(routes, &app.Route{Pattern: "/only-in-second", Type: app.RoutePage})
	Expect(m.Validate()).To(Succeed())
	return m
}
