package suite

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/fixtures"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/runner/lambdahost"
)

// The cookies /api/cookies sets, raw and through the cookie API.
var lambdaCookies = []string{
	"raw_c=3; Path=/", "raw_d=4; Path=/; Secure", "raw_e=5; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT",
	"astro_a=1; Path=/; HttpOnly", "astro_b=two%20words; Max-Age=60; Path=/api; SameSite=Lax",
}

// registerLambda checks the Lambda handler contract through the emulated
// gateway (LAMBDA area): the envelope itself, not only the HTTP response
// the gateway makes of it.
func registerLambda(h *hostEnv) {
	ginkgo.Describe("Lambda", func() {
		h.it("LAMBDA-1", "v2 and Function URL responses carry Set-Cookie in cookies[], never in headers", func(ctx ginkgo.SpecContext) {
			ex := h.get(ctx, "/api/cookies")
			inv := h.invocationOf(ex)
			env := envelopeOf(inv, ex)
			var cookies []string
			Expect(decodeField(env, "cookies", &cookies)).To(Succeed(), explainInv("cookies[] to be an array of strings", inv, ex))
			Expect(cookies).To(ContainElements(lambdaCookies), explainInv("cookies[] to hold every Set-Cookie of the App", inv, ex))
			var headers map[string]any
			decodeField(env, "headers", &headers)
			for k := range headers {
				Expect(strings.EqualFold(k, "set-cookie")).To(BeFalse(), explainInv("no set-cookie in headers (the gateway keeps only one)", inv, ex))
			}
			mustRespond(ex)
			Expect(ex.resp.Header.Values("Set-Cookie")).To(ContainElements(lambdaCookies), explainInv("every cookie to reach the client on its own Set-Cookie line", inv, ex))
		})
		h.it("LAMBDA-2", "v1 responses carry repeated headers in multiValueHeaders and no cookies field", func(ctx ginkgo.SpecContext) {
			for _, c := range []struct {
				path string
				want map[string][]string
			}{
				{"/api/cookies", map[string][]string{"Set-Cookie": lambdaCookies}},
				{"/api/headers", map[string][]string{"X-Multi": {"one", "two"}, "Vary": {"Accept", "Accept-Encoding"}}},
			} {
				ex := h.get(ctx, c.path)
				inv := h.invocationOf(ex)
				env := envelopeOf(inv, ex)
				Expect(env).NotTo(HaveKey("cookies"), explainInv("no cookies field, which a REST API rejects", inv, ex))
				var multi map[string][]string
				Expect(decodeField(env, "multiValueHeaders", &multi)).To(Succeed(), explainInv("multiValueHeaders to map names to arrays of strings", inv, ex))
				got := http.Header{}
				for k, vs := range multi {
					got[http.CanonicalHeaderKey(k)] = append(got[http.CanonicalHeaderKey(k)], vs...)
				}
				for name, vs := range c.want {
					Expect(sameFieldValue(name, got.Values(name), vs)).To(BeTrue(), explainInv("multiValueHeaders "+fieldExpectation(name, got.Values(name), vs), inv, ex))
				}
			}
		})
		h.it("LAMBDA-3", "incoming cookies become one Cookie header joined with '; ', each cookie once", func(ctx ginkgo.SpecContext) {
			// An HTTP API sends the cookies in cookies[] only; a Function URL
			// in cookies[] and in the cookie header (aws-gateway-facts.md).
			ex := h.get(ctx, "/api/echo", header("Cookie", "a=1; b=2"))
			inv := h.invocationOf(ex)
			e := echoOf(ex)
			from := "cookies [a=1 b=2]"
			if h.shape == app.ShapeFunctionURL {
				from += " and the cookie header a=1; b=2"
			}
			Expect(e.Headers["cookie"]).To(Equal([]string{"a=1; b=2"}), explainInv("the App to see one Cookie: a=1; b=2 from "+from+"; it saw "+fmt.Sprint(e.Headers["cookie"]), inv, ex))
		})
		h.it("LAMBDA-4", "repeated request headers reach the App with every value", func(ctx ginkgo.SpecContext) {
			ex := h.get(ctx, "/api/echo", header("X-A", "1"), header("X-A", "2"), header("X-Date", httpDate), header("If-Modified-Since", httpDate))
			inv := h.invocationOf(ex)
			e := echoOf(ex)
			for _, c := range []struct {
				name string
				want []string
			}{
				{"X-A", []string{"1", "2"}},               // a list: 1,2 on one line is the same value
				{"X-Date", []string{httpDate}},            // not lists: a comma-joined header
				{"If-Modified-Since", []string{httpDate}}, // cannot be split back safely
			} {
				got := e.Headers[strings.ToLower(c.name)]
				Expect(sameFieldValue(c.name, got, c.want)).To(BeTrue(), explainInv("the App to see "+fieldExpectation(c.name, got, c.want), inv, ex))
			}
		})
		h.it("LAMBDA-5", "a base64-encoded request body is decoded", func(ctx ginkgo.SpecContext) {
			for _, c := range []struct {
				body        []byte
				contentType string
			}{{bytes256(), "application/octet-stream"}, {[]byte("a=1&b=%C3%A9+x"), "application/x-www-form-urlencoded"}} {
				ex := h.do(ctx, "POST", "/api/echo", c.body, header("Content-Type", c.contentType))
				inv := h.invocationOf(ex)
				e := echoOf(ex)
				Expect(e.BodySHA256).To(Equal(sha(c.body)), explainInv("the App to get the "+itoa(len(c.body))+" decoded body bytes (SHA-256 "+sha(c.body)+"); it got "+itoa(e.BodyLength)+" bytes", inv, ex))
			}
		})
		h.it("LAMBDA-6", "a binary response is base64-encoded with isBase64Encoded", func(ctx ginkgo.SpecContext) {
			ex := h.get(ctx, "/api/binary")
			inv := h.invocationOf(ex)
			if inv.Streamed {
				// A stream carries the body raw, after the prelude: no base64.
				Expect(inv.Body).To(Equal(bytes256()), explainInv("the streamed body to be the bytes 0..255, raw", inv, ex))
				expectStatus(ex, http.StatusOK)
				Expect(ex.body).To(Equal(bytes256()), explainInv("the client to get the bytes 0..255", inv, ex))
				return
			}
			env := envelopeOf(inv, ex)
			var b64 bool
			decodeField(env, "isBase64Encoded", &b64)
			Expect(b64).To(BeTrue(), explainInv("isBase64Encoded: true for an application/octet-stream body", inv, ex))
			var body string
			decodeField(env, "body", &body)
			raw, err := base64.StdEncoding.DecodeString(body)
			Expect(err).NotTo(HaveOccurred(), explainInv("a base64 body", inv, ex))
			Expect(raw).To(Equal(bytes256()), explainInv("a body that decodes to the bytes 0..255", inv, ex))
			expectStatus(ex, http.StatusOK)
			Expect(ex.body).To(Equal(bytes256()), explainInv("the client to get the bytes 0..255", inv, ex))
		})
		h.it("LAMBDA-7", "a text response is sent as plain text", func(ctx ginkgo.SpecContext) {
			host := h.startWith(ctx, textFixture())
			c := newClient(host, h.fx.timeouts.Request)
			defer c.close()
			g := host.Gateway
			for _, p := range []struct{ path, contentType string }{
				{"/about", "text/html"}, {"/api/echo", "application/json"},
				{"/lambda/json-charset", "application/json; charset=utf-8"}, {"/lambda/jwks", "application/jwk-set+json"},
			} {
				ex := c.send(ctx, "GET", p.path, nil)
				attach(ex)
				expectStatus(ex, http.StatusOK)
				invs := g.For(ex.id)
				Expect(invs).To(HaveLen(1), explain("one invocation for the request", ex))
				inv := invs[0]
				if inv.Streamed {
					Expect(string(inv.Body)).To(Equal(string(ex.body)), explainInv("the streamed body to be the text itself", inv, ex))
					continue
				}
				env := envelopeOf(inv, ex)
				var b64 bool
				decodeField(env, "isBase64Encoded", &b64)
				Expect(b64).To(BeFalse(), explainInv("isBase64Encoded: false for a "+p.contentType+" body", inv, ex))
				var body string
				decodeField(env, "body", &body)
				Expect(body).To(Equal(string(ex.body)), explainInv("the envelope's body to be the text itself", inv, ex))
			}
		})
		h.it("LAMBDA-8", "the query reaches the App with its encoding and every value", func(ctx ginkgo.SpecContext) {
			q := "path=/book/%7Bid%7D&p=a%2Bb&a=1&a=2&flag"
			ex := h.get(ctx, "/api/echo?"+q)
			inv := h.invocationOf(ex)
			e := echoOf(ex)
			if h.shape == app.ShapeLambdaV1 {
				// v1 events carry the query decoded: every value must survive.
				Expect(e.Query["a"]).To(Equal([]string{"1", "2"}), explainInv("a = [1 2] from multiValueQueryStringParameters", inv, ex))
				Expect(e.Query["p"]).To(Equal([]string{"a+b"}), explainInv("p = a+b", inv, ex))
				Expect(e.Query["path"]).To(Equal([]string{"/book/{id}"}), explainInv("path = /book/{id}", inv, ex))
				Expect(e.Query).To(HaveKey("flag"), explainInv("flag present", inv, ex))
				return
			}
			Expect(e.RawQuery).To(Equal(q), explainInv("the App to see rawQueryString "+q+" byte for byte", inv, ex))
		})
		h.it("LAMBDA-9", "an already-encoded event path reaches the App byte for byte", func(ctx ginkgo.SpecContext) {
			ex := h.get(ctx, "/blog/a%2Fb")
			inv := h.invocationOf(ex)
			expectStatus(ex, http.StatusOK)
			_, params, _, _ := app.ParsePageMarkers(ex.body)
			Expect(params).To(Equal(map[string]string{"slug": "a%2Fb"}), explainInv("/blog/[slug] with slug a%2Fb", inv, ex))
			p := "/api/echo-path/caf%C3%A9/a%2Fb/100%25"
			ex = h.get(ctx, p)
			inv = h.invocationOf(ex)
			Expect(echoOf(ex).RawPath).To(Equal(p), explainInv("the App to see the event's encoded path "+p+", neither decoded nor encoded again", inv, ex))
		})
		h.it("LAMBDA-10", "the stage never reaches the App's path where the gateway leaves it out", func(ctx ginkgo.SpecContext) {
			cases := []stageCase{
				{"/about", "rawPath /about with stage $default", lambdahost.EventOptions{Stage: lambdahost.DefaultStage}, "/about"},
			}
			if h.shape == app.ShapeLambdaV1 {
				// A REST path carries no stage (requestContext.path does),
				// so a stage named like a route's first segment must not be
				// stripped from it.
				cases = []stageCase{
					{"/blog/first-post", "path /blog/first-post with stage blog (requestContext.path /blog/blog/first-post)", lambdahost.EventOptions{Stage: "blog"}, "/blog/first-post"},
					{"/blog/first-post", "path /blog/first-post with stage blog on a custom domain", lambdahost.EventOptions{Stage: "blog", CustomDomain: "www.example.test"}, "/blog/first-post"},
					{"/about", "path /about with stage prod", lambdahost.EventOptions{Stage: "prod"}, "/about"},
				}
			}
			h.expectStageCases(ctx, cases)
		})
		h.it("LAMBDA-21", "an HTTP API's named stage is stripped from rawPath before routing", func(ctx ginkgo.SpecContext) {
			h.expectStageCases(ctx, []stageCase{
				{"/about", "rawPath /prod/about with stage prod", lambdahost.EventOptions{Stage: "prod"}, "/about"},
				{"/blog/first-post", "rawPath /blog/blog/first-post with stage blog", lambdahost.EventOptions{Stage: "blog"}, "/blog/first-post"},
			})
		})
		h.it("LAMBDA-11", "clientAddress is the event's source IP", func(ctx ginkgo.SpecContext) {
			const ip = "198.51.100.7"
			inv := h.invoke(ctx, "GET", "/api/echo", nil, lambdahost.EventOptions{SourceIP: ip}, header("X-Forwarded-For", "203.0.113.9"))
			e := echoOfInvocation(inv)
			Expect(e.ClientAddress).NotTo(BeNil(), explainInv("a clientAddress", inv))
			Expect(*e.ClientAddress).To(Equal(ip), explainInv("clientAddress "+ip+", the event's sourceIp", inv))
		})
		h.it("LAMBDA-12", "a response over the 6 MB payload limit is not cut to fit, and the function survives it", func(ctx ginkgo.SpecContext) {
			ex := h.get(ctx, "/api/large")
			inv := h.invocationOf(ex)
			if inv.Streamed {
				skipNotApplicable("the adapter answers in response streaming mode, where the 6 MB payload limit of a buffered response does not apply (HTTP-15 checks the whole body arrives)")
			}
			Expect(inv.FunctionError).To(BeEmpty(), explainInv("the function to answer rather than fail", inv, ex))
			ownError := inv.Outcome == lambdahost.OutcomeOK && inv.Status >= 500
			Expect(inv.Outcome == lambdahost.OutcomeResponseTooLarge || ownError).To(BeTrue(), explainInv(
				"the whole response, which the Lambda service rejects as over "+itoa(lambdahost.MaxPayload)+" bytes (or a 5xx of the adapter's own), never a body cut to fit", inv, ex))
			Expect(ex.status()).To(BeNumerically(">=", 500), explainInv("the gateway's 502, not a 2xx", inv, ex))
			h.expectAlive(ctx)
		})
		h.it("LAMBDA-13", "every response envelope is well formed for its gateway", func(ctx ginkgo.SpecContext) {
			for _, c := range renderCorpus {
				var body []byte
				if c.method == "POST" {
					body = []byte(`{"hello":"world"}`)
				}
				ex := h.do(ctx, c.method, c.target, body, header("Content-Type", "application/json"))
				inv := h.invocationOf(ex)
				Expect(inv.Outcome).NotTo(Equal(lambdahost.OutcomeMalformed), explainInv("an envelope the gateway accepts", inv, ex))
			}
		})
		h.it("LAMBDA-18", "the function does not panic or crash on events with unusual bytes, and the next invocation is answered", func(ctx ginkgo.SpecContext) {
			for _, c := range []struct {
				target string
				opts   []reqOpt
			}{
				{"/api/echo", []reqOpt{header("X-Name", "café")}},
				{"/api/echo?q=a+b%20c&r=%E6%97%A5", nil},
				{"/about", []reqOpt{header("User-Agent", "probe/1.0 (日本)")}},
			} {
				inv := h.invoke(ctx, "GET", c.target, nil, lambdahost.EventOptions{}, c.opts...)
				Expect(inv.Crashed).To(BeFalse(), explainInv("the function to answer, not to panic or end its runtime process", inv))
				Expect(inv.FunctionError).To(BeEmpty(), explainInv("the function to answer rather than fail", inv))
				Expect(inv.Status).To(Equal(http.StatusOK), explainInv("200 for GET "+c.target, inv))
			}
			h.expectAlive(ctx)
		})
		h.it("LAMBDA-15", "a streamed response sends its prelude with every cookie, 8 NUL bytes, then the body as it is produced", func(ctx ginkgo.SpecContext) {
			// /api/stream: three chunks streamDelay apart.
			ex := h.http.start(ctx, "GET", streamTarget(), nil)
			mustRespond(ex)
			started := time.Now()
			r := bufio.NewReader(ex.resp.Body)
			first, firstErr := r.ReadString('\n')
			firstAt := time.Since(started)
			rest, _ := io.ReadAll(r)
			total := time.Since(started)
			ex.resp.Body.Close()
			ex.body = append([]byte(first), rest...)
			attach(ex) // with the body as it came
			inv := h.invocationOf(ex)
			if !inv.Streamed {
				skipNotApplicable("the adapter answers with buffered envelopes, not in response streaming mode")
			}
			Expect(inv.Outcome).To(Equal(lambdahost.OutcomeOK), explainInv("a JSON prelude with a statusCode, ended by 8 NUL bytes, then the body", inv, ex))
			expectStatus(ex, http.StatusOK)
			Expect(firstErr).NotTo(HaveOccurred(), explainInv("a first chunk", inv, ex))
			// As HTTP-16: the last chunk cannot be produced before
			// 2*streamDelay, so a first chunk that arrives more than
			// streamDelay before the end was not buffered.
			Expect(total-firstAt).To(BeNumerically(">", streamDelay), explainInv(
				"the first chunk at least "+streamDelay.String()+" before the end; it came after "+firstAt.String()+" of "+total.String(), inv, ex))

			ex = h.get(ctx, "/api/cookies")
			inv = h.invocationOf(ex)
			Expect(inv.Streamed).To(BeTrue(), explainInv("the cookie route answered in response streaming mode too", inv, ex))
			env := envelopeOf(inv, ex)
			var cookies []string
			Expect(decodeField(env, "cookies", &cookies)).To(Succeed(), explainInv("the prelude's cookies to be an array of strings", inv, ex))
			Expect(cookies).To(ContainElements(lambdaCookies), explainInv("the prelude's cookies to hold every Set-Cookie of the App", inv, ex))
			mustRespond(ex)
			Expect(ex.resp.Header.Values("Set-Cookie")).To(ContainElements(lambdaCookies), explainInv("every cookie to reach the client on its own Set-Cookie line", inv, ex))
		})
		h.it("LAMBDA-16", "an HTTP API's decoded rawPath is made a valid path for the App", func(ctx ginkgo.SpecContext) {
			for _, p := range []string{"/blog/hello%20world", "/blog/caf%C3%A9", "/unicode/%E6%97%A5%E6%9C%AC"} {
				ex := h.get(ctx, p)
				h.expectRenderedAsSent(ex)
			}
			ex := h.get(ctx, "/api/echo-path/caf%C3%A9/x%20y")
			inv := h.invocationOf(ex)
			expectStatus(ex, http.StatusOK)
			raw := echoOf(ex).RawPath
			decoded, err := url.PathUnescape(raw)
			Expect(err == nil && decoded == "/api/echo-path/café/x y").To(BeTrue(), explainInv(
				"the App to see a valid encoding of the decoded rawPath /api/echo-path/café/x y; it saw "+raw, inv, ex))
		})
		h.it("LAMBDA-17", "a literal %, ? or # in an HTTP API's decoded rawPath stays in the path", func(ctx ginkgo.SpecContext) {
			for _, p := range []string{"/blog/100%25", "/blog/what%3F?x=1", "/blog/a%23b"} {
				ex := h.get(ctx, p)
				h.expectRenderedAsSent(ex)
			}
		})
		h.itRuntime("LAMBDA-14", "through the Runtime API, every invocation gets exactly one answer, and the runtime keeps polling", func(ctx ginkgo.SpecContext, api *lambdahost.RuntimeAPI) {
			Expect(h.host.StartError).NotTo(HaveOccurred(), explainRuntime("the runtime to ask for an invocation (GET /next) once started", api, h.host))
			for _, p := range []string{"/", "/about", "/api/echo?x=1"} {
				ex := h.get(ctx, p)
				inv := h.invocationOf(ex)
				Expect(inv.Outcome).To(Equal(lambdahost.OutcomeOK), withRuntime(explainInv("an answer before the invocation's deadline", inv, ex), api, h.host))
				Expect(runtimePosts(api, ex.id)).To(Equal([]string{"response 202"}), withRuntime(explainInv("exactly one POST /runtime/invocation/{id}/response", inv, ex), api, h.host))
			}
			// An event it cannot decode gets one answer, on either path
			// (which one is LAMBDA-20's business), and the runtime goes on.
			inv := h.invoke(ctx, "GET", "/about", nil, lambdahost.EventOptions{Edit: undecodableEvent})
			Expect(runtimePosts(api, inv.ID)).To(SatisfyAny(Equal([]string{"error 202"}), Equal([]string{"response 202"})), withRuntime(explainInv(
				"an event the function cannot decode answered by exactly one POST, to /runtime/invocation/{id}/error or /response", inv), api, h.host))
			ex := h.get(ctx, "/about")
			last := h.invocationOf(ex)
			expectStatus(ex, http.StatusOK)
			Eventually(api.Waiting, 2*time.Second, 20*time.Millisecond).Should(BeNumerically(">", 0),
				withRuntime(explainInv("the runtime to poll GET /next again after answering", last, ex), api, h.host))
		})
		h.itRuntime("LAMBDA-20", "through the Runtime API, an event the function cannot decode is reported on /error", func(ctx ginkgo.SpecContext, api *lambdahost.RuntimeAPI) {
			Expect(h.host.StartError).NotTo(HaveOccurred(), explainRuntime("the runtime to ask for an invocation (GET /next) once started", api, h.host))
			inv := h.invoke(ctx, "GET", "/about", nil, lambdahost.EventOptions{Edit: undecodableEvent})
			Expect(runtimePosts(api, inv.ID)).To(Equal([]string{"error 202"}), withRuntime(explainInv(
				"an event the function cannot decode reported once on POST /runtime/invocation/{id}/error, as aws-lambda-go does, so that Lambda counts it as a failed invocation (a 500 envelope on /response is a success to it)", inv), api, h.host))
		})
	})
}

// stageCase is an event on a stage and the route it must render
// (LAMBDA-10, LAMBDA-21).
type stageCase struct {
	target, what string
	o            lambdahost.EventOptions
	route        string
}

// expectStageCases invokes each case's event and expects its route's page.
func (h *hostEnv) expectStageCases(ctx context.Context, cases []stageCase) {
	ginkgo.GinkgoHelper()
	for _, c := range cases {
		inv := h.invoke(ctx, "GET", c.target, nil, c.o)
		route, _, _, ok := app.ParsePageMarkers(inv.Body)
		Expect(inv.Status).To(Equal(http.StatusOK), explainInv("200 for "+c.what, inv))
		Expect(ok && route == c.route).To(BeTrue(), explainInv("the page "+c.route+" for "+c.what, inv))
	}
}

// invocationOf is the gateway's record of an exchange: one invocation.
func (h *hostEnv) invocationOf(ex *exchange) *lambdahost.Invocation {
	ginkgo.GinkgoHelper()
	g := h.gateway()
	invs := g.For(ex.id)
	Expect(invs).To(HaveLen(1), explain("the gateway to invoke the function once for the request", ex))
	attachInvocation(invs[0])
	return invs[0]
}

func (h *hostEnv) gateway() *lambdahost.Gateway {
	ginkgo.GinkgoHelper()
	var g *lambdahost.Gateway
	if h.host != nil {
		g = h.host.Gateway
	}
	if g == nil {
		ginkgo.Skip("cannot be checked: the " + string(h.shape) + " host has no emulated gateway the kit can look into")
	}
	return g
}

// invoke sends a request through the gateway directly, with event options
// an HTTP client cannot ask for (a stage, a source IP, an edited event).
func (h *hostEnv) invoke(ctx context.Context, method, target string, body []byte, o lambdahost.EventOptions, opts ...reqOpt) *lambdahost.Invocation {
	ginkgo.GinkgoHelper()
	g := h.gateway()
	r := httptest.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if u, err := url.Parse(h.host.URL); err == nil {
		r.Host = u.Host
	}
	r.RemoteAddr = "127.0.0.1:40000"
	for _, f := range opts {
		f(r)
	}
	r.Header.Set(lambdahost.RequestIDHeader, "direct-"+strconv.FormatInt(h.http.seq.Add(1), 10)+"-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	inv := g.RoundTrip(ctx, r, o)
	attachInvocation(inv)
	return inv
}

// startWith starts the target again for another manifest and returns its
// host of this shape; it is stopped when the spec ends.
func (h *hostEnv) startWith(ctx context.Context, m *app.Manifest) *runner.Host {
	ginkgo.GinkgoHelper()
	inst, err := h.fx.live.start(ctx, h.fx.target, m)
	ginkgo.DeferCleanup(func(ctx context.Context) error { return inst.Stop(ctx) })
	Expect(err).NotTo(HaveOccurred(), explain("the adapter to start with the fixture "+m.Name))
	host := inst.Host(h.shape)
	Expect(host).NotTo(BeNil(), explain("a "+string(h.shape)+" host for the fixture "+m.Name))
	return host
}

// textFixture is basic with two text endpoints whose content types a
// gateway adapter must recognise as text (B31).
func textFixture() *app.Manifest {
	m, err := fixtures.Load("basic")
	Expect(err).NotTo(HaveOccurred())
	m.Name = "lambda-text"
	m.Routes = append(m.Routes,
		&app.Route{Pattern: "/lambda/json-charset", Type: app.RouteEndpoint, Handlers: map[string]*app.Action{
			"GET": {Kind: "text", ContentType: "application/json; charset=utf-8", Body: `{"text":"café"}`}}},
		&app.Route{Pattern: "/lambda/jwks", Type: app.RouteEndpoint, Handlers: map[string]*app.Action{
			"GET": {Kind: "text", ContentType: "application/jwk-set+json", Body: `{"keys":[]}`}}},
	)
	Expect(m.Validate()).To(Succeed())
	return m
}

// envelopeOf decodes the function's response envelope as a JSON object.
func envelopeOf(inv *lambdahost.Invocation, ex *exchange) map[string]json.RawMessage {
	ginkgo.GinkgoHelper()
	Expect(inv.FunctionError).To(BeEmpty(), explainInv("the function to answer", inv, ex))
	var env map[string]json.RawMessage
	Expect(json.Unmarshal(inv.Response, &env)).To(Succeed(), explainInv("a JSON object as the response envelope", inv, ex))
	return env
}

// decodeField decodes one field of an envelope; a missing or null field
// leaves v as it is.
func decodeField(env map[string]json.RawMessage, name string, v any) error {
	raw, ok := env[name]
	if !ok || string(raw) == "null" {
		return nil
	}
	return json.Unmarshal(raw, v)
}

// echoOfInvocation decodes the echo the gateway answered with.
func echoOfInvocation(inv *lambdahost.Invocation) app.Echo {
	ginkgo.GinkgoHelper()
	Expect(inv.Status).To(Equal(http.StatusOK), explainInv("status 200 from the echo endpoint", inv))
	var e app.Echo
	Expect(json.Unmarshal(inv.Body, &e)).To(Succeed(), explainInv("the echo endpoint's JSON", inv))
	return e
}

// explainInv is explain with the invocation: the event sent, the envelope
// returned and what the gateway made of it.
func explainInv(expected string, inv *lambdahost.Invocation, exs ...*exchange) func() string {
	return func() string {
		return explain(expected, exs...)() + dumpInvocation(inv)
	}
}

func attachInvocation(inv *lambdahost.Invocation) {
	ginkgo.AddReportEntry("lambda-invocation", dumpInvocation(inv), ginkgo.ReportEntryVisibilityFailureOrVerbose)
}

func dumpInvocation(inv *lambdahost.Invocation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Lambda invocation %s through the emulated %s gateway:\n", inv.ID, inv.Shape)
	fmt.Fprintf(&b, "  event sent (%d bytes):\n    %s\n", len(inv.Event), jsonExcerpt(inv.Event, 3000))
	switch {
	case inv.FunctionError != "":
		fmt.Fprintf(&b, "  the function failed: %s\n", inv.FunctionError)
	case inv.Response != nil:
		fmt.Fprintf(&b, "  envelope returned (%d bytes):\n    %s\n", len(inv.Response), jsonExcerpt(inv.Response, 3000))
	}
	if inv.Outcome != lambdahost.OutcomeOK {
		fmt.Fprintf(&b, "  the gateway did not use it (%s): %s\n", inv.Outcome, inv.Detail)
	}
	fmt.Fprintf(&b, "  the gateway answered %d", inv.Status)
	keys := make([]string, 0, len(inv.Header))
	for k := range inv.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range inv.Header[k] {
			fmt.Fprintf(&b, "\n    %s: %s", k, v)
		}
	}
	fmt.Fprintf(&b, "\n    (%d body bytes) %s\n", len(inv.Body), excerpt(inv.Body))
	return b.String()
}

// jsonExcerpt shows JSON compactly, cut after n bytes.
func jsonExcerpt(b []byte, n int) string {
	var buf bytes.Buffer
	if json.Compact(&buf, b) == nil {
		b = buf.Bytes()
	}
	if len(b) > n {
		return string(b[:n]) + fmt.Sprintf("... (%d more bytes)", len(b)-n)
	}
	return string(b)
}

// expectRenderedAsSent checks that the page a request reached through the
// gateway is the one the kit's own App renders for the request as the client
// sent it: the same status, route and params (LAMBDA-16, LAMBDA-17). An HTTP
// API hands the function a decoded path; an adapter that escapes it again
// gets back what the client sent, whatever hex case or escapes it chooses.
func (h *hostEnv) expectRenderedAsSent(ex *exchange) {
	ginkgo.GinkgoHelper()
	inv := h.invocationOf(ex)
	want := h.fx.referenceRender(ex)
	Expect(want).To(HaveLen(1), explainInv("the kit's own App to render "+ex.target, inv, ex))
	Expect(ex.status()).To(Equal(want[0].Status), explainInv("status "+itoa(want[0].Status)+", as the App renders "+ex.target, inv, ex))
	route, params, _, ok := app.ParsePageMarkers(want[0].Body())
	if !ok {
		return
	}
	got, gotParams, _, gotOK := app.ParsePageMarkers(ex.body)
	Expect(gotOK && got == route).To(BeTrue(), explainInv("the page "+route+", as the App renders "+ex.target, inv, ex))
	Expect(gotParams).To(Equal(params), explainInv(fmt.Sprintf("params %v, as the App renders %s", params, ex.target), inv, ex))
}
