package suite

import (
	"context"
	"mime"
	"net/http"
	"strings"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/adapterconformance/adapter-conformance/runner"
)

// registerNotFound checks 404 handling (NOTFOUND area). In middleware mode
// unmatched paths belong to the host's next handler (MATCH-1), so the specs
// about unmatched paths do not apply there.
func registerNotFound(h *hostEnv) {
	ginkgo.Describe("not found", func() {
		h.it("NOTFOUND-1", "an unmatched path gives 404", func(ctx ginkgo.SpecContext) {
			h.skipInMiddlewareMode()
			expectStatus(h.get(ctx, "/nope"), http.StatusNotFound)
		})
		h.it("NOTFOUND-2", "the 404 body is the custom 404 page", func(ctx ginkgo.SpecContext) {
			h.skipInMiddlewareMode()
			ex := h.get(ctx, "/nope")
			mustRespond(ex)
			expectMediaType(ex, "text/html")
			expectRoute(ex, "/404", nil)
		})
		h.it("NOTFOUND-4", "/404 and /404/ give 404 with the 404 page", func(ctx ginkgo.SpecContext) {
			for _, p := range []string{"/404", "/404/"} {
				ex := h.get(ctx, p)
				expectStatus(ex, http.StatusNotFound)
				expectRoute(ex, "/404", nil)
			}
		})
		h.it("NOTFOUND-5", "the 404 status line says Not Found", func(ctx ginkgo.SpecContext) {
			h.skipInMiddlewareMode()
			req := "GET /nope HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
			rr, err := h.rawRoundTrip(ctx, "GET", req)
			Expect(rr).NotTo(BeNil(), explainRaw("a status line", req, rr, err))
			Expect(rr.statusLine).To(Equal("HTTP/1.1 404 Not Found"), explainRaw("HTTP/1.1 404 Not Found", req, rr, err))
		})
		h.it("NOTFOUND-6", "HEAD on an unmatched path gives 404 and no body", func(ctx ginkgo.SpecContext) {
			h.skipInMiddlewareMode()
			get := h.get(ctx, "/nope")
			req := "HEAD /nope HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
			rr, err := h.rawRoundTrip(ctx, "HEAD", req)
			Expect(rr).NotTo(BeNil(), explainRaw("a response", req, rr, err))
			Expect(rr.resp).NotTo(BeNil(), explainRaw("a response", req, rr, err))
			Expect(rr.resp.StatusCode).To(Equal(http.StatusNotFound), explainRaw("status 404", req, rr, err))
			mustRespond(get)
			wantType, _, _ := mime.ParseMediaType(get.resp.Header.Get("Content-Type"))
			gotType, _, _ := mime.ParseMediaType(rr.resp.Header.Get("Content-Type"))
			Expect(gotType).To(Equal(wantType), explainRaw("the Content-Type of GET /nope ("+wantType+")", req, rr, err))
			Expect(rr.body).To(BeEmpty(), explainRaw("no body bytes", req, rr, err))
			Expect(rr.after).To(BeEmpty(), explainRaw("no body bytes on the wire after the HEAD response", req, rr, err))
		})
		h.it("NOTFOUND-7", "a method with no handler gives the 404 page, not 405", func(ctx ginkgo.SpecContext) {
			for _, c := range []struct{ method, path string }{{"PUT", "/api/echo"}, {"POST", "/api/only-get"}} {
				ex := h.do(ctx, c.method, c.path, []byte(`{"a":1}`), header("Content-Type", "application/json"))
				expectStatus(ex, http.StatusNotFound)
				expectRoute(ex, "/404", nil)
				Expect(ex.resp.Header.Values("Allow")).To(BeEmpty(), explain("no Allow header", ex))
			}
		})
	})
}

// skipInMiddlewareMode: an unmatched request is the next handler's business
// there (astro-behavior §5, MATCH-1).
func (h *hostEnv) skipInMiddlewareMode() {
	if h.host.Middleware {
		skipNotApplicable("in middleware mode unmatched paths go to the host's next handler (MATCH-1)")
	}
}

// registerErrors checks failing routes (ERROR area).
func registerErrors(h *hostEnv) {
	ginkgo.Describe("errors", func() {
		h.it("ERROR-1", "a throwing endpoint or page gives 500", func(ctx ginkgo.SpecContext) {
			for _, p := range []string{"/api/throws", "/page-throws"} {
				expectStatus(h.get(ctx, p), http.StatusInternalServerError)
			}
		})
		if h.fx.manifest.ErrorRoute() == nil {
			h.it("ERROR-2", "without a 500 page the 500 body is empty and leaks nothing", func(ctx ginkgo.SpecContext) {
				for _, p := range []string{"/api/throws", "/page-throws"} {
					ex := h.get(ctx, p)
					mustRespond(ex)
					Expect(string(ex.body)).NotTo(Or(ContainSubstring("panic:"), ContainSubstring("goroutine ")), explain("no panic text or stack trace", ex))
					Expect(ex.body).To(BeEmpty(), explain("an empty body", ex))
				}
			})
		}
		h.it("ERROR-4", "the adapter keeps serving after a route fails", func(ctx ginkgo.SpecContext) {
			for _, p := range []string{"/api/throws", "/page-throws"} {
				h.get(ctx, p)
				h.expectAlive(ctx)
			}
		})
		h.it("ERROR-5", "an invalid status from an endpoint gives 500, and the server stays up", func(ctx ginkgo.SpecContext) {
			expectStatus(h.get(ctx, "/api/invalid-status"), http.StatusInternalServerError)
			h.expectAlive(ctx)
		})
		h.it("ERROR-6", "a page's null-body 404 gives the 404 page", func(ctx ginkgo.SpecContext) {
			ex := h.get(ctx, "/page-null-404")
			expectStatus(ex, http.StatusNotFound)
			expectRoute(ex, "/404", nil)
		})
	})
}

// registerMatch checks middleware mode and static assets (MATCH area).
func registerMatch(h *hostEnv) {
	ginkgo.Describe("match and static assets", func() {
		h.it("MATCH-1", "middleware mode passes unmatched requests to next", func(ctx ginkgo.SpecContext) {
			h.onlyMiddleware()
			before := h.host.NextCalls.Load()
			ex := h.get(ctx, "/nope")
			mustRespond(ex)
			Expect(ex.resp.Header.Get(runner.NextHeader)).To(Equal("1"), explain("the next handler's response (418, "+runner.NextHeader+": 1)", ex))
			Expect(ex.status()).To(Equal(http.StatusTeapot), explain("next's status 418, unchanged", ex))
			Expect(h.host.NextCalls.Load()).To(Equal(before+1), explain("next to be called once", ex))
		})
		h.it("MATCH-2", "middleware mode renders matched requests without calling next", func(ctx ginkgo.SpecContext) {
			h.onlyMiddleware()
			for _, p := range []string{"/about", "/api/echo"} {
				before := h.host.NextCalls.Load()
				ex := h.get(ctx, p)
				expectStatus(ex, http.StatusOK)
				Expect(h.host.NextCalls.Load()).To(Equal(before), explain("next not to be called", ex))
			}
		})
		h.it("MATCH-3", "middleware mode renders /404 and /404/ itself", func(ctx ginkgo.SpecContext) {
			h.onlyMiddleware()
			for _, p := range []string{"/404", "/404/"} {
				before := h.host.NextCalls.Load()
				ex := h.get(ctx, p)
				expectStatus(ex, http.StatusNotFound)
				expectRoute(ex, "/404", nil)
				Expect(h.host.NextCalls.Load()).To(Equal(before), explain("next not to be called", ex))
			}
		})
		h.it("MATCH-4", "declared static assets are served with their bytes and type", func(ctx ginkgo.SpecContext) {
			h.expectPublicFiles(ctx)
		})
		h.it("MATCH-5", "a public file wins over a dynamic route", func(ctx ginkgo.SpecContext) {
			h.expectFileBeatsRoute(ctx, "")
		})
		h.it("MATCH-7", "HEAD on a public file gives GET's headers and no body", func(ctx ginkgo.SpecContext) {
			h.expectPublicHead(ctx)
		})
		h.it("MATCH-6", "directories and dotfiles under public are not served", func(ctx ginkgo.SpecContext) {
			h.onlyStaticAssets()
			for _, p := range []string{"/assets", "/assets/", "/.env"} {
				ex := h.get(ctx, p)
				mustRespond(ex)
				Expect(ex.status()).NotTo(Equal(http.StatusOK), explain("no 200: no listing, no file", ex))
				Expect(ex.status()).To(Or(Equal(http.StatusNotFound), Equal(http.StatusTeapot)), explain("the 404 page (or next, in middleware mode)", ex))
			}
		})
		h.it("ROBUST-8", "dot segments never reach outside public", func(ctx ginkgo.SpecContext) {
			h.onlyStaticAssets()
			for _, p := range []string{"/../manifest.json", "/%2e%2e/manifest.json", "/assets/..%2F..%2Fmanifest.json"} {
				ex := h.get(ctx, p)
				mustRespond(ex)
				Expect(string(ex.body)).NotTo(ContainSubstring(`"routes"`), explain("not the fixture's manifest.json", ex))
			}
		})
	})
}

func (h *hostEnv) onlyMiddleware() {
	if !h.host.Middleware {
		skipNotApplicable("the " + h.host.Export + " export is not in middleware mode")
	}
}

func (h *hostEnv) onlyStaticAssets() {
	a, ok := h.fx.inst.Declaration.Adapter()
	if !ok || !a.Features.ServesStaticAssets {
		skipNotApplicable("the adapter does not declare ServesStaticAssets")
	}
	if h.host.Middleware {
		skipNotApplicable("in middleware mode the host serves static files, not the adapter")
	}
}

// publicPaths are the URL paths of the fixture's public files: every path
// in the manifest's Assets, which carry the base, and, in a fixture with a
// base, each of them without it too (astro-behavior §14.2: both give the
// file).
func (h *hostEnv) publicPaths() []string {
	m := h.fx.manifest
	base := strings.TrimSuffix(m.Base, "/")
	var paths []string
	for _, asset := range m.Assets {
		paths = append(paths, asset)
		if base != "" {
			paths = append(paths, strings.TrimPrefix(asset, base))
		}
	}
	return paths
}

// expectPublicFiles is MATCH-4: each public file with 200, its bytes and
// the content type of its extension.
func (h *hostEnv) expectPublicFiles(ctx context.Context) {
	h.onlyStaticAssets()
	m := h.fx.manifest
	Expect(m.Public).NotTo(BeNil(), "the fixture has no public directory")
	for _, p := range h.publicPaths() {
		want := readPublic(m, p)
		ex := h.get(ctx, p)
		expectStatus(ex, http.StatusOK)
		Expect(ex.body).To(Equal(want), explain("the bytes of the public file for "+p, ex))
		if ext := extOf(p); ext == ".svg" || ext == ".txt" {
			wantType, _, _ := mime.ParseMediaType(mime.TypeByExtension(ext))
			expectMediaType(ex, wantType)
		}
	}
}

// expectFileBeatsRoute is MATCH-5, under a path prefix (the base, or "").
func (h *hostEnv) expectFileBeatsRoute(ctx context.Context, prefix string) {
	h.onlyStaticAssets()
	ex := h.get(ctx, prefix+"/assets/logo.svg")
	expectStatus(ex, http.StatusOK)
	Expect(ex.body).To(Equal(readPublic(h.fx.manifest, "/assets/logo.svg")), explain("the file public/assets/logo.svg", ex))
	ex = h.get(ctx, prefix+"/assets/other.svg")
	expectStatus(ex, http.StatusOK)
	expectRoute(ex, "/assets/[file]", map[string]string{"file": "other.svg"})
}

// expectPublicHead is MATCH-7: HEAD on each public file gives the status
// and headers of GET, and no body bytes (astro-behavior §4, B25).
func (h *hostEnv) expectPublicHead(ctx context.Context) {
	h.onlyStaticAssets()
	for _, p := range h.publicPaths() {
		get := h.get(ctx, p)
		head := h.do(ctx, http.MethodHead, p, nil)
		mustRespond(get)
		mustRespond(head)
		Expect(head.status()).To(Equal(get.status()), explain("the status of GET "+p, get, head))
		for k, vs := range get.resp.Header {
			got := head.resp.Header.Values(k)
			// A HEAD may leave Content-Length out, but one it sends is the
			// GET's (RFC 9110 §8.6).
			if framingHeaders[k] && (k != "Content-Length" || len(got) == 0) {
				continue
			}
			Expect(sameFieldValue(k, got, vs)).To(BeTrue(), explain("as for GET, "+fieldExpectation(k, got, vs), get, head))
		}
		Expect(head.body).To(BeEmpty(), explain("no body", head))
	}
}
