package suite

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner"
)

// renderCorpus are the requests RENDER-2 compares, one per kind of response
// the App makes: pages, params, endpoints with headers and cookies, binary,
// redirects, 404 and 500.
var renderCorpus = []struct{ method, target string }{
	{"GET", "/"}, {"GET", "/about"}, {"GET", "/blog/hello"}, {"GET", "/docs/a/b"},
	{"GET", "/api/echo?x=1"}, {"POST", "/api/echo"}, {"GET", "/api/headers"}, {"GET", "/api/cookies"}, {"GET", "/api/cookie-one"},
	{"GET", "/api/binary"}, {"GET", "/api/throws"}, {"GET", "/api/status/201"}, {"GET", "/api/redirect"},
	{"GET", "/page-cookies"}, {"GET", "/nope"},
}

// framingHeaders belong to the connection, not to the App's response.
var framingHeaders = map[string]bool{"Date": true, "Connection": true, "Keep-Alive": true, "Content-Length": true, "Transfer-Encoding": true}

func registerRender(h *hostEnv) {
	ginkgo.Describe("render", func() {
		h.it("RENDER-1", "pages render with 200, text/html and their route markers", func(ctx ginkgo.SpecContext) {
			for _, c := range []struct{ path, route string }{{"/", "/"}, {"/about", "/about"}, {"/blog/hello", "/blog/[slug]"}} {
				ex := h.get(ctx, c.path)
				expectStatus(ex, 200)
				expectMediaType(ex, "text/html")
				expectRoute(ex, c.route, nil)
			}
		})
		h.it("RENDER-2", "the client gets what App.Render returned", func(ctx ginkgo.SpecContext) {
			observed := h.host.Renders != nil
			for _, c := range renderCorpus {
				if h.host.Middleware && c.target == "/nope" {
					continue // next's business (MATCH-1)
				}
				if !observed && strings.HasPrefix(c.target, "/api/echo") {
					// The echo shows the request as the adapter's App saw
					// it (its peer address, its framing), which the kit's
					// own App cannot reproduce.
					continue
				}
				var body []byte
				if c.method == "POST" {
					body = []byte(`{"hello":"world"}`)
				}
				ex := h.do(ctx, c.method, c.target, body, header("Content-Type", "application/json"))
				mustRespond(ex)
				if observed {
					compareWithRender(ex, ex.renders())
				} else {
					compareWithRender(ex, h.fx.referenceRender(ex))
				}
			}
		})
		h.it("RENDER-3", "a static route beats a dynamic one", func(ctx ginkgo.SpecContext) {
			expectRoute(h.get(ctx, "/blog/first-post"), "/blog/first-post", map[string]string{})
		})
		h.it("RENDER-4", "params arrive decoded, unicode included", func(ctx ginkgo.SpecContext) {
			for _, c := range []struct{ path, route, key, want string }{
				{"/blog/caf%C3%A9", "/blog/[slug]", "slug", "café"},
				{"/blog/hello%20world", "/blog/[slug]", "slug", "hello world"},
				{"/unicode/%E6%97%A5%E6%9C%AC", "/unicode/[name]", "name", "日本"},
			} {
				ex := h.get(ctx, c.path)
				expectStatus(ex, 200)
				expectRoute(ex, c.route, map[string]string{c.key: c.want})
			}
		})
		h.it("RENDER-5", "an encoded slash stays inside one param", func(ctx ginkgo.SpecContext) {
			ex := h.get(ctx, "/blog/a%2Fb")
			expectStatus(ex, 200)
			expectRoute(ex, "/blog/[slug]", map[string]string{"slug": "a%2Fb"})
		})
		h.it("RENDER-6", "a rest param matches any depth, none included", func(ctx ginkgo.SpecContext) {
			ex := h.get(ctx, "/docs/a/b/c")
			expectStatus(ex, 200)
			expectRoute(ex, "/docs/[...path]", map[string]string{"path": "a/b/c"})
			ex = h.get(ctx, "/docs")
			expectStatus(ex, 200)
			expectRoute(ex, "/docs/[...path]", map[string]string{})
		})
		h.it("RENDER-7", "endpoints dispatch on the method", func(ctx ginkgo.SpecContext) {
			for _, m := range []string{"GET", "POST"} {
				ex := h.do(ctx, m, "/api/echo", nil)
				Expect(echoOf(ex).Method).To(Equal(m), explain("the echo of method "+m, ex))
			}
			ex := h.do(ctx, http.MethodHead, "/api/only-get", nil)
			expectStatus(ex, 200)
			// An endpoint with a HEAD handler of its own: an adapter that
			// hands the App a GET for a HEAD runs the GET handler instead.
			for _, m := range []string{http.MethodGet, http.MethodHead} {
				ex := h.do(ctx, m, "/api/head-own", nil)
				expectStatus(ex, 200)
				Expect(ex.resp.Header.Values("X-Handler")).To(Equal([]string{m}), explain("X-Handler: "+m+", from the endpoint's "+m+" handler", ex))
			}
		})
		h.it("RENDER-8", "endpoint status codes pass through", func(ctx ginkgo.SpecContext) {
			for _, code := range []string{"201", "418", "503"} {
				ex := h.get(ctx, "/api/status/"+code)
				mustRespond(ex)
				Expect(itoa(ex.status())).To(Equal(code), explain("status "+code, ex))
				Expect(string(ex.body)).To(Equal("status "+code), explain("the endpoint's body", ex))
			}
		})
		h.it("RENDER-9", "a redirect keeps its Location as the App set it", func(ctx ginkgo.SpecContext) {
			ex := h.get(ctx, "/api/redirect")
			expectStatus(ex, 307)
			Expect(ex.resp.Header.Values("Location")).To(Equal([]string{"/about"}), explain("Location: /about, relative", ex))
		})
		h.it("RENDER-10", "204 and 304 have no body", func(ctx ginkgo.SpecContext) {
			for _, code := range []int{204, 304} {
				ex := h.get(ctx, "/api/status/"+itoa(code))
				expectStatus(ex, code)
				Expect(ex.body).To(BeEmpty(), explain("no body bytes", ex))
			}
		})
		h.it("RENDER-14", "204 and 304 keep the App's Content-Type: none", func(ctx ginkgo.SpecContext) {
			for _, code := range []int{204, 304} {
				// The App sends a 204 or 304 with no Content-Type
				// (astro-behavior §7); the status is RENDER-10's business.
				expectField(h.get(ctx, "/api/status/"+itoa(code)), "Content-Type", nil)
			}
		})
		h.it("RENDER-11", "the App's duplicate-slash redirect passes through", func(ctx ginkgo.SpecContext) {
			h.skipTrailingSlashInMiddleware()
			ex := h.get(ctx, "/about//?x=1")
			expectStatus(ex, 301)
			Expect(ex.resp.Header.Get("Location")).To(Equal("/about/?x=1"), explain("Location: /about/?x=1", ex))
		})
		h.it("RENDER-13", "a page's own redirect passes through", func(ctx ginkgo.SpecContext) {
			ex := h.get(ctx, "/page-redirect")
			expectStatus(ex, 302)
			Expect(ex.resp.Header.Get("Location")).To(Equal("/blog/first-post"), explain("Location: /blog/first-post", ex))
			Expect(ex.body).To(BeEmpty(), explain("an empty body", ex))
		})
	})
}

// compareWithRender checks that the client got the status, headers and body
// that the App returned for this very request (found by request id).
func compareWithRender(ex *exchange, renders []*runner.Render) {
	ginkgo.GinkgoHelper()
	Expect(renders).To(HaveLen(1), explain("the App to render this request exactly once", ex))
	r := renders[0]
	expected := func(what string) func() string {
		return func() string {
			var b strings.Builder
			b.WriteString(explain(what, ex)())
			b.WriteString("what App.Render returned:\n  < " + itoa(r.Status) + "\n")
			writeHeaders(&b, "  < ", r.RespHeader)
			b.WriteString("  < (" + itoa(int(r.BodySize())) + " body bytes) " + excerpt(r.Body()) + "\n")
			return b.String()
		}
	}
	Expect(ex.status()).To(Equal(r.Status), expected("the App's status "+itoa(r.Status)))
	for k, want := range r.RespHeader {
		if framingHeaders[k] {
			continue
		}
		got := ex.resp.Header.Values(k)
		Expect(sameFieldValue(k, got, want)).To(BeTrue(), expected("the App's "+fieldExpectation(k, got, want)))
	}
	for k := range ex.resp.Header {
		if framingHeaders[k] {
			continue
		}
		_, ok := r.RespHeader[k]
		Expect(ok).To(BeTrue(), expected("no header "+k+", which the App did not set"))
	}
	Expect(ex.err).NotTo(HaveOccurred(), expected("the whole response body"))
	if ex.method != http.MethodHead {
		Expect(r.BodyComplete()).To(BeTrue(), expected("the adapter to send the App's whole body (it stopped reading it)"))
		Expect(r.SameBody(ex.body)).To(BeTrue(), expected("the App's body, byte for byte"))
	}
}

// registerVariantSpecs are the specs a fixture's differences from basic
// call for: no 404 page, a 500 page, a base path, a trailing-slash policy.
func registerVariantSpecs(h *hostEnv) {
	m := h.fx.manifest
	if m.NotFoundRoute() == nil {
		h.it("NOTFOUND-3", "without a 404 page, the default 404 page comes with 404", func(ctx ginkgo.SpecContext) {
			h.skipInMiddlewareMode()
			ex := h.get(ctx, "/nope")
			expectStatus(ex, 404)
			Expect(string(ex.body)).To(ContainSubstring("<title>404: Not Found</title>"), explain("the App's default 404 page", ex))
		})
	}
	if m.ErrorRoute() != nil {
		h.it("ERROR-3", "with a 500 page, a failing route gives that page with 500", func(ctx ginkgo.SpecContext) {
			for _, p := range []string{"/api/throws", "/page-throws"} {
				ex := h.get(ctx, p)
				expectStatus(ex, 500)
				expectRoute(ex, "/500", nil)
			}
		})
	}
	if m.Base != "" && m.Base != "/" {
		base := strings.TrimSuffix(m.Base, "/")
		h.it("RENDER-12", "routes are reached under the base and without it", func(ctx ginkgo.SpecContext) {
			for _, c := range []struct{ path, route string }{{base + "/about", "/about"}, {"/about", "/about"}, {base, "/"}} {
				ex := h.get(ctx, c.path)
				expectStatus(ex, 200)
				expectRoute(ex, c.route, nil)
			}
		})
		// The path and asset checks of the basic fixture, under the base.
		h.it("HTTP-2", "under the base, the path reaches the App with its encoding and its base intact", func(ctx ginkgo.SpecContext) {
			h.expectRawPath(ctx, base)
		})
		h.it("MATCH-4", "public files are served under the base and without it", func(ctx ginkgo.SpecContext) {
			h.expectPublicFiles(ctx)
		})
		h.it("MATCH-5", "under the base, a public file wins over a dynamic route", func(ctx ginkgo.SpecContext) {
			h.expectFileBeatsRoute(ctx, base)
		})
		h.it("MATCH-7", "HEAD on a public file, under the base and without it", func(ctx ginkgo.SpecContext) {
			h.expectPublicHead(ctx)
		})
		// The differential corpus, each route also under the base.
		registerDiff(h)
	}
	switch m.TrailingSlash {
	case app.TrailingSlashNever:
		h.it("RENDER-11", "trailingSlash never: the App's redirects pass through", func(ctx ginkgo.SpecContext) {
			h.skipTrailingSlashInMiddleware()
			for _, c := range []struct {
				method string
				status int
			}{{"GET", 301}, {"POST", 308}} {
				ex := h.do(ctx, c.method, "/about/?x=1", nil)
				expectStatus(ex, c.status)
				Expect(ex.resp.Header.Get("Location")).To(Equal("/about?x=1"), explain("Location: /about?x=1", ex))
			}
		})
	case app.TrailingSlashAlways:
		h.it("RENDER-11", "trailingSlash always: the App's redirects pass through", func(ctx ginkgo.SpecContext) {
			h.skipTrailingSlashInMiddleware()
			ex := h.get(ctx, "/about?x=1")
			expectStatus(ex, 301)
			Expect(ex.resp.Header.Get("Location")).To(Equal("/about/?x=1"), explain("Location: /about/?x=1", ex))
			expectRoute(h.get(ctx, "/about/"), "/about", nil)
		})
	}
}

// modeIs reports whether the target runs in one of the modes.
func (h *hostEnv) modeIs(modes ...runner.Mode) bool {
	return slices.Contains(modes, h.fx.target.Mode())
}

// skipTrailingSlashInMiddleware: app.match() is undefined for a path in the
// wrong trailing-slash form, so in middleware mode it goes to next
// (astro-behavior §2, §14.1).
func (h *hostEnv) skipTrailingSlashInMiddleware() {
	if h.host.Middleware {
		skipNotApplicable("in middleware mode a path in the wrong trailing-slash form goes to next, as app.match() does not match it")
	}
}

// referenceRender renders an exchange's request with the kit's own App for
// the fixture. Out of process, the adapter's App.Render cannot be observed,
// so RENDER-2 compares the client's response with what the App returns for
// the same request, with the cookie API's cookies added (RENDER-12): what a
// conformant adapter passes on.
func (fx *fixtureEnv) referenceRender(ex *exchange) []*runner.Render {
	_, err := fx.referenceApp()
	Expect(err).NotTo(HaveOccurred(), "the kit's own App for the fixture")
	resp := fx.reference.Render(referenceRequest(ex), app.AddCookieHeader(), app.ClientAddress("127.0.0.1"))
	if resp.Body != nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return fx.referenceLog.For(ex.id)
}

// referenceRequest is the request of an exchange as the kit's own App is
// to see it: as the client sent it, over https behind a Lambda gateway,
// which reports https as AWS does (LAMBDA-19), so that the App's URL and
// origin check are those the adapter's App sees.
func referenceRequest(ex *exchange) *http.Request {
	r := httptest.NewRequest(ex.method, ex.target, bytes.NewReader(ex.reqBody))
	r.Header = ex.reqHeader.Clone()
	if ex.host != "" {
		r.Host = ex.host
	}
	if ex.hostInfo != nil && ex.hostInfo.Shape.IsLambda() {
		r.TLS = &tls.ConnectionState{}
	}
	return r
}
