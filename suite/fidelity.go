package suite

import (
	"net/http"
	"net/url"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner/lambdahost"
)

// formType is the content type of an HTML form's submission.
const formType = "application/x-www-form-urlencoded"

// crossSite is an Origin that is never the request's own.
const crossSite = "https://evil.example"

// registerFidelity checks what the App does that an adapter can only keep
// or break: Astro's origin check, which needs the request's real origin
// (HTTP-22, HTTP-23, HTTP-24), a fragment on the request line (RENDER-15)
// the encoding Astro.url.pathname keeps (RENDER-16) and, behind a Lambda
// gateway, the scheme the gateway reports (LAMBDA-19). The per-fixture
// spec, HTTP-24, is registered for a fixture that turns the check off.
func registerFidelity(h *hostEnv) {
	if !h.fx.manifest.ChecksOrigin() {
		h.it("HTTP-24", "with checkOrigin off, a cross-site form reaches the route", func(ctx ginkgo.SpecContext) {
			ex := h.do(ctx, "POST", "/api/echo", []byte("a=1"), header("Content-Type", formType), withOrigin(crossSite))
			Expect(echoOf(ex).Method).To(Equal("POST"), explain("200 and the echo of the POST: this fixture's App does not check the origin", ex))
			ex = h.do(ctx, "DELETE", "/api/echo-all", nil, withoutOrigin())
			Expect(echoOf(ex).Method).To(Equal("DELETE"), explain("200 and the echo of a DELETE sent with no Origin", ex))
		})
	}
	if !h.fx.primary {
		return
	}
	ginkgo.Describe("App fidelity", func() {
		h.it("HTTP-22", "the App gets the request's real origin, so a same-origin form passes the origin check", func(ctx ginkgo.SpecContext) {
			// The client sends the origin of the URL it talks to, as a
			// browser does (client.start).
			ex := h.do(ctx, "POST", "/api/echo", []byte("a=1&b=2"), header("Content-Type", formType))
			e := echoOf(ex)
			Expect(e.Method).To(Equal("POST"), explain("the echo of the form POST", ex))
			ex = h.do(ctx, "DELETE", "/api/echo-all", nil)
			Expect(echoOf(ex).Method).To(Equal("DELETE"), explain("the echo of a same-origin DELETE with no body", ex))
		})
		h.it("HTTP-23", "a cross-site form gets the App's 403", func(ctx ginkgo.SpecContext) {
			if !h.fx.manifest.ChecksOrigin() {
				skipNotApplicable("the fixture turns security.checkOrigin off (HTTP-24 applies instead)")
			}
			for _, c := range []struct {
				method, target, contentType string
				opt                         reqOpt
			}{
				{"POST", "/api/echo", formType, withOrigin(crossSite)},
				{"DELETE", "/api/echo-all", "", withoutOrigin()},
			} {
				opts := []reqOpt{c.opt}
				var body []byte
				if c.contentType != "" {
					opts = append(opts, header("Content-Type", c.contentType))
					body = []byte("a=1")
				}
				ex := h.do(ctx, c.method, c.target, body, opts...)
				expectStatus(ex, http.StatusForbidden)
				want := "Cross-site " + c.method + " form submissions are forbidden"
				Expect(string(ex.body)).To(Equal(want), explain("the App's body "+want, ex))
				expectField(ex, "Content-Type", []string{"text/plain;charset=UTF-8"})
			}
		})
		h.it("LAMBDA-19", "the App's scheme is the gateway's X-Forwarded-Proto", func(ctx ginkgo.SpecContext) {
			u, err := url.Parse(h.host.URL)
			Expect(err).NotTo(HaveOccurred())
			// AWS's gateways are HTTPS only and say so (voker capture:
			// x-forwarded-proto https, x-forwarded-port 443), and so does
			// the emulator; the browser's Origin is then https and the Host.
			origin := "https://" + u.Host
			inv := h.invoke(ctx, "POST", "/api/echo", []byte("a=1"), lambdahost.EventOptions{},
				header("Content-Type", formType), withOrigin(origin))
			e := echoOfInvocation(inv)
			Expect(e.URL).To(HavePrefix(origin+"/"), explainInv("the App's URL on "+origin+", the scheme the gateway reported", inv))
			Expect(e.Method).To(Equal("POST"), explainInv("the echo of the same-origin form POST", inv))
			// The gateway's value replaces the client's own.
			inv = h.invoke(ctx, "GET", "/api/echo", nil, lambdahost.EventOptions{}, header("X-Forwarded-Proto", "http"))
			Expect(echoOfInvocation(inv).URL).To(HavePrefix(origin+"/"),
				explainInv("the App's URL on "+origin+": the gateway reports https and replaces the client's X-Forwarded-Proto: http", inv))
		})
		h.it("RENDER-15", "a fragment on the request line is dropped before routing", func(ctx ginkgo.SpecContext) {
			for _, c := range []struct{ target, route string }{{"/about#frag", "/about"}, {"/blog/hello#x/y", "/blog/[slug]"}} {
				ex := h.get(ctx, c.target)
				expectStatus(ex, http.StatusOK)
				expectRoute(ex, c.route, nil)
			}
		})
		h.it("RENDER-16", "Astro.url.pathname keeps the request's percent-encoding", func(ctx ginkgo.SpecContext) {
			for _, c := range []struct{ target, slug string }{{"/blog/hello%20world", "hello world"}, {"/blog/caf%C3%A9", "café"}} {
				ex := h.get(ctx, c.target)
				expectStatus(ex, http.StatusOK)
				_, params, pathname, ok := app.ParsePageMarkers(ex.body)
				Expect(ok).To(BeTrue(), explain("a page with its markers", ex))
				Expect(pathname).To(Equal(c.target), explain("Astro.url.pathname "+c.target+" (data-astro-url-pathname), encoded as sent", ex))
				Expect(params["slug"]).To(Equal(c.slug), explain("the decoded param slug = "+c.slug, ex))
			}
		})
	})
}
