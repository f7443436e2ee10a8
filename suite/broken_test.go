package suite_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/broken"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

// wantFailed is the exact set of requirements each broken adapter fails.
// Besides the bug's own requirement, a row lists what follows from it, so
// that any change in what the suite sees shows up here (RENDER-2 compares
// every corpus response with the App's, so most response bugs fail it too).
// The differential corpus (DIFF-1..5) reaches every route with every
// method, body, header, path and query variant, so a bug shows there under
// the dimension its minimal request needs: DIFF-4 when the plain request
// already differs, DIFF-3 when it takes a path variant (an upper-case or
// doubled-slash path that is a 404, a redirect, a throw). The controls that
// differ from the App in one dimension only: unknown-method-as-get,
// b21-body-lost and chunked-body-lost (DIFF-1, the last in framing alone), b11-last-header-value (DIFF-2), b37-query-dropped
// (DIFF-3), status-normalized (DIFF-4).
var wantFailed = map[string][]string{
	"setadapter-never":            {"DECL-1"},
	"setadapter-twice":            {"DECL-1"},
	"empty-name":                  {"DECL-2"},
	"no-entrypoint":               {"DECL-3", "DECL-7"},
	"duplicate-exports":           {"DECL-4"},
	"exports-mismatch":            {"DECL-5"},
	"exports-fail-with-base":      {"DECL-6"},
	"shape-without-export":        {"DECL-7"},
	"hook-rejects-never":          {"DECL-8"},
	"export-wrong-type":           {"EXPORT-1"},
	"fetch-response-and-error":    {"ERROR-1", "ERROR-2", "ERROR-3", "ERROR-5", "EXPORT-2", "RENDER-2", "RENDER-8", "DIFF-3", "DIFF-4"}, // DIFF: the throwing routes, plain and via a path variant
	"shared-request-state":        {"EXPORT-3"},
	"ignores-manifest":            {"ERROR-3", "EXPORT-4", "HTTP-2", "HTTP-24", "MATCH-4", "MATCH-5", "NOTFOUND-3", "RENDER-11", "RENDER-12", "RENDER-2", "DIFF-4"}, // the bundled app has no base, so the base fixture's path and asset checks fail too; DIFF-4: the base fixture's routes under /app
	"b21-body-lost":               {"EXPORT-3", "HTTP-11", "HTTP-12", "DIFF-1"},                                                                                     // EXPORT-3 POSTs bodies too; DIFF-1: a body reaches the echo empty
	"chunked-body-lost":           {"DIFF-1"},                                                                                                                       // DIFF-1 alone: the only chunked bodies the kit sends are the corpus's framing dimension
	"b22-body-as-utf8":            {"HTTP-11", "HTTP-12", "DIFF-1"},                                                                                                 // DIFF-1: the binary body
	"b37-query-dropped":           {"HTTP-3", "HTTP-4", "RENDER-11", "DIFF-3"},                                                                                      // DIFF-3: the query dimension
	"b38-query-decoded":           {"HTTP-3", "DIFF-3"},                                                                                                             // DIFF-3: the query dimension
	"b41-query-first-value":       {"HTTP-3", "HTTP-4", "DIFF-3"},                                                                                                   // DIFF-3: repeated keys
	"b42-slash-decoded":           {"HTTP-2", "RENDER-15", "RENDER-5", "DIFF-3"},                                                                                    // DIFF-3: the encoded slash; an unrouted method on a percent-encoded letter, whose 404 page shows the mangled path, is DIFF-3 too: any method the route lacks shows it, only the encoded paths do
	"b43-path-double-encoded":     {"HTTP-2", "RENDER-15", "RENDER-5", "DIFF-3"},                                                                                    // DIFF-3: percent-encoded paths; an unrouted method on a percent-encoded letter, whose 404 page shows the mangled path, is DIFF-3 too: any method the route lacks shows it, only the encoded paths do
	"b43-path-as-latin1":          {"HTTP-2", "RENDER-15", "RENDER-16", "RENDER-4", "RENDER-5", "DIFF-3"},                                                           // DIFF-3: percent-encoded paths; an unrouted method on a percent-encoded letter, whose 404 page shows the mangled path, is DIFF-3 too: any method the route lacks shows it, only the encoded paths do
	"b49-wrong-host":              {"HTTP-1", "HTTP-22", "HTTP-5", "HTTP-6", "RENDER-7", "DIFF-1", "DIFF-4"},                                                        // DIFF-1: unsafe methods' origin check (403); DIFF-4: every route's plain request, whose URL has the wrong host
	"b50-trusts-forwarded-host":   {"HTTP-6"},
	"b11-last-header-value":       {"HTTP-7", "DIFF-2"},  // DIFF-2: the repeated field
	"ipv6-client-address-split":   {"DIFF-5"},            // only a request from ::1 shows it
	"b51-no-client-address":       {"HTTP-18", "DIFF-4"}, // DIFF-4: every echo's plain request shows clientAddress null
	"b51-client-from-xff":         {"HTTP-18"},
	"b24-get-with-content-length": {"HTTP-13"},
	"unknown-method-as-get":       {"HTTP-1", "DIFF-1"}, // DIFF-1: PROPFIND
	"rejects-utf8-headers":        {"ROBUST-7"},
	"b01-cookies-folded":          {"HTTP-8", "HTTP-9", "RENDER-2", "DIFF-4"}, // DIFF-4: the cookie routes' plain requests
	// Caught only because every export of a shape is driven.
	"second-export-folds-cookies":          {"HTTP-8", "HTTP-9", "RENDER-2", "DIFF-4"},                                                                                                         // DIFF-4: the cookie routes' plain requests
	"b03-no-cookie-api":                    {"HTTP-9", "DIFF-4"},                                                                                                                               // DIFF-4: the cookie routes' plain requests
	"b10-last-header-wins":                 {"HTTP-10", "RENDER-2", "DIFF-4"},                                                                                                                  // DIFF-4: /api/headers' plain request
	"b12-notfound-200":                     {"ERROR-6", "EXPORT-4", "MATCH-6", "NOTFOUND-1", "NOTFOUND-3", "NOTFOUND-4", "NOTFOUND-6", "NOTFOUND-7", "RENDER-2", "DIFF-3", "DIFF-1", "DIFF-4"}, // DIFF-3: a path variant that is a 404; DIFF-1: PUT to /api/echo; DIFF-4: /page-null-404
	"b17-panics-on-error":                  {"ERROR-1", "ERROR-2", "ERROR-3", "ERROR-5", "RENDER-2", "DIFF-3", "DIFF-4"},                                                                       // DIFF: the throwing routes, plain and via a path variant
	"b17-restarts-after-error":             {"ERROR-1", "ERROR-3", "ERROR-4", "ERROR-5", "RENDER-2", "DIFF-1", "DIFF-2", "DIFF-3", "HTTP-22", "NOTFOUND-3"},                                    // DIFF-1..3: requests after a throw, each under the dimensions it varies (the corpus, its shrinking and the probes of which dimension matters go one at a time, so the same ones every run); HTTP-22, NOTFOUND-3: the first request after the corpus run, whose shrinking ends on a throw, gets the 503
	"b25-head-fails":                       {"HTTP-13", "HTTP-17", "MATCH-7", "NOTFOUND-6", "RENDER-7", "DIFF-1"},                                                                              // DIFF-1: HEAD
	"b35-buffered-stream":                  {"HTTP-16"},
	"b34-binary-as-text":                   {"HTTP-14", "HTTP-15", "HTTP-16", "RENDER-2", "DIFF-4"}, // DIFF-4: /api/binary's plain request
	"large-body-truncated":                 {"HTTP-15"},
	"content-type-forced":                  {"HTTP-23", "NOTFOUND-2", "RENDER-1", "RENDER-2", "DIFF-3", "DIFF-4", "DIFF-1"}, // DIFF: every page, plain and via a path variant; DIFF-1: OPTIONS to /api/redirect
	"status-normalized":                    {"RENDER-2", "RENDER-8", "DIFF-4"},                                              // DIFF-4: /api/status/201's plain request
	"no-content-as-200":                    {"RENDER-10"},
	"location-made-absolute":               {"RENDER-11", "RENDER-13", "RENDER-2", "RENDER-9", "DIFF-3", "DIFF-4"},                                        // DIFF: the redirects, plain and the App's slash redirects
	"error-details-in-body":                {"ERROR-2", "RENDER-2", "DIFF-3", "DIFF-4"},                                                                   // DIFF: the throwing routes, plain and via a path variant
	"platform-404-page":                    {"ERROR-6", "NOTFOUND-2", "NOTFOUND-3", "NOTFOUND-4", "NOTFOUND-7", "RENDER-2", "DIFF-3", "DIFF-1", "DIFF-4"}, // DIFF-3: a path variant that is a 404; DIFF-1: PUT to /api/echo; DIFF-4: /page-null-404
	"platform-500-page":                    {"ERROR-2", "ERROR-3", "RENDER-2", "DIFF-3", "DIFF-4"},                                                        // DIFF: the throwing routes, plain and via a path variant
	"gzip-added":                           {"HTTP-19"},
	"client-errors-as-500":                 {"ROBUST-2"},
	"dies-on-client-abort":                 {"ROBUST-6"},
	"b44-open-redirect":                    {"ROBUST-4", "DIFF-3"},                       // DIFF-3: the doubled-slash path
	"routes-in-declared-order":             {"RENDER-3", "DIFF-4"},                       // DIFF-4: /blog/first-post's plain request
	"path-depth-limit":                     {"HTTP-2", "RENDER-6", "DIFF-3", "DIFF-4"},   // DIFF: the rest param's paths
	"b46-base-required":                    {"MATCH-4", "RENDER-12", "DIFF-3", "DIFF-4"}, // /robots.txt without the base is refused too; DIFF-3: a path variant under the base; DIFF-4: the unmatched path
	"b48-routes-before-files":              {"MATCH-4", "MATCH-5", "DIFF-4"},             // DIFF-4: the public file /assets/logo.svg's plain request renders the route
	"static-wrong-type":                    {"MATCH-4", "DIFF-4"},                        // DIFF-4: a public file's plain request, with the wrong type
	"static-lists-directories":             {"MATCH-6"},
	"static-path-traversal":                {"ROBUST-8"},
	"middleware-renders-unmatched":         {"EXPORT-4", "MATCH-1"},
	"middleware-always-calls-next":         {"MATCH-2", "MATCH-3"},
	"b20-middleware-404-to-next":           {"ERROR-6", "MATCH-3", "NOTFOUND-4", "NOTFOUND-7", "DIFF-1", "DIFF-4"}, // DIFF: the 404 page and methods an endpoint lacks
	"b52-hard-close":                       {"START-3"},
	"keeps-serving-after-shutdown":         {"START-4"},
	"start-returns-server-closed":          {"START-5"},
	"start-ignores-listener":               {"START-1", "START-2"},
	"b02-lambda-v1-headers-map":            {"HTTP-10", "HTTP-8", "HTTP-9", "LAMBDA-2", "RENDER-2", "DIFF-4"},              // DIFF-4: the cookie and header routes' plain requests
	"b04-lambda-v2-cookies-in-headers":     {"HTTP-8", "HTTP-9", "LAMBDA-1", "RENDER-2", "DIFF-4"},                         // DIFF-4: the cookie routes' plain requests
	"b05-lambda-v1-cookies-field":          {"HTTP-21", "HTTP-8", "HTTP-9", "LAMBDA-13", "LAMBDA-2", "RENDER-2", "DIFF-4"}, // every response with a cookie is a 502, /api/cookie-one's too; DIFF-4: the cookie routes' plain requests
	"b07-lambda-cookies-ignored":           {"LAMBDA-3", "DIFF-2"},                                                         // DIFF-2: several Cookie lines
	"b08-lambda-cookies-comma":             {"LAMBDA-3", "DIFF-2"},                                                         // DIFF-2: several Cookie lines
	"b09-lambda-furl-cookies-twice":        {"LAMBDA-3", "DIFF-2"},                                                         // DIFF-2: several Cookie lines
	"b10-lambda-furl-multivalue":           {"HTTP-10", "RENDER-2", "DIFF-4"},                                              // DIFF-4: /api/headers' plain request
	"b11-lambda-v1-single-headers":         {"HTTP-7", "LAMBDA-4", "DIFF-2"},                                               // DIFF-2: the repeated field
	"b23-lambda-base64-body-kept":          {"HTTP-11", "HTTP-12", "LAMBDA-5", "DIFF-1"},                                   // DIFF-1: a body
	"b40-lambda-panics-on-utf8-header":     {"LAMBDA-18"},
	"b30-lambda-binary-as-text":            {"HTTP-14", "LAMBDA-12", "LAMBDA-6", "RENDER-2", "DIFF-4"}, // DIFF-4: /api/binary's plain request
	"b31-lambda-text-as-base64":            {"LAMBDA-7"},
	"b35-lambda-furl-stream-buffered":      {"LAMBDA-15"},
	"b06-lambda-furl-stream-drops-cookies": {"HTTP-21", "HTTP-8", "HTTP-9", "LAMBDA-1", "LAMBDA-15", "RENDER-2", "DIFF-4"}, // /api/cookie-one's lone cookie is dropped too; DIFF-4: the cookie routes' plain requests
	"b36-lambda-truncates-large":           {"LAMBDA-12"},
	"b37-lambda-query-dropped":             {"HTTP-3", "HTTP-4", "LAMBDA-8", "RENDER-11", "DIFF-3"}, // DIFF-3: the query dimension
	"b38-lambda-query-decoded":             {"HTTP-3", "HTTP-4", "LAMBDA-8", "DIFF-3"},              // DIFF-3: the query dimension
	"b41-lambda-v1-query-last-value":       {"HTTP-4", "LAMBDA-8", "DIFF-3"},                        // DIFF-3: repeated keys
	"b42-lambda-rawpath-decoded":           {"HTTP-2", "LAMBDA-9", "RENDER-5", "DIFF-3"},            // DIFF-3: percent-encoded paths; an unrouted method on a percent-encoded letter, whose 404 page shows the mangled path, is DIFF-3 too: any method the route lacks shows it, only the encoded paths do
	"b47-lambda-stage-kept":                {"LAMBDA-10"},
	"b47-lambda-v1-stage-stripped":         {"LAMBDA-10"},
	"b43-lambda-furl-double-encoded":       {"HTTP-2", "LAMBDA-9", "DIFF-3"}, // DIFF-3: percent-encoded paths, the café ones too; an unrouted method on a percent-encoded letter, whose 404 page shows the mangled path, is DIFF-3 too: any method the route lacks shows it, only the encoded paths do
	"lambda-v2-question-as-query":          {"LAMBDA-17"},
	// The 400 also hits RENDER-4's encoded params (and RENDER-16's) and LAMBDA-17's literal %.
	"lambda-v2-rejects-decoded-path": {"LAMBDA-16", "LAMBDA-17", "RENDER-16", "RENDER-4"},
	"b51-lambda-client-from-xff":     {"HTTP-18", "LAMBDA-11"},

	// Header blind spots of published bridges (issue 13). /api/cookie-one
	// is in RENDER-2's corpus, so a doubled lone cookie fails it too; no 204
	// or 304 is, so a made-up Content-Type fails RENDER-14 alone.
	"lone-cookie-twice":           {"HTTP-21", "RENDER-2", "DIFF-4"}, // DIFF-4: /api/cookie-one's plain request
	"lambda-v2-lone-cookie-twice": {"HTTP-21", "RENDER-2", "DIFF-4"}, // DIFF-4: /api/cookie-one's plain request
	"no-content-type-made-up":     {"RENDER-14"},
	"b11-lambda-v2-header-split":  {"LAMBDA-4", "DIFF-2"}, // DIFF-2: the value with commas

	// Astro's origin check (issue 14). A wrong host (b49-wrong-host above)
	// or scheme makes every same-origin unsafe request without a JSON body
	// cross-site to the App: HTTP-1's methods and RENDER-7's POST get 403.
	// A path rebuilt from its decoded form (b42, b43) escapes a literal '#'
	// as %23, so the fragment becomes part of the path (RENDER-15).
	"b49-wrong-scheme":                   {"HTTP-1", "HTTP-22", "HTTP-5", "HTTP-6", "RENDER-7", "DIFF-1", "DIFF-4"}, // DIFF-1: unsafe methods' origin check (403); DIFF-4: every route's plain request, whose URL has the wrong scheme
	"origin-forged":                      {"HTTP-23"},
	"b49-lambda-ignores-forwarded-proto": {"DIFF-1", "HTTP-22", "LAMBDA-19", "LAMBDA-5", "RENDER-7", "DIFF-4"}, // the emulator says https, as AWS does: every same-origin form POST gets 403 (DIFF-1); DIFF-4: every route's plain request, whose URL says http
	// Blind spots broken adapters slipped through (issue 14). The base
	// fixture's public files are checked under the base and without it,
	// so a file missing under /app fails MATCH-4 and MATCH-5 (the dynamic
	// route renders /app/assets/logo.svg) together.
	"b46-base-stripped":         {"HTTP-2", "DIFF-3", "DIFF-4", "DIFF-1"}, // DIFF: the echo's path under the base; DIFF-1: PATCH to /app/api/only-get
	"b46-assets-404-under-base": {"MATCH-4", "MATCH-5", "DIFF-4"},         // DIFF-4: a public file under the base, plain, is 404
	"static-head-404":           {"MATCH-7", "DIFF-1"},                    // DIFF-1: a public file to DELETE is 404, where Astro serves it to any method (astro-behavior §8)
	"head-as-get":               {"RENDER-7", "DIFF-1"},                   // DIFF-1: HEAD
	"stream-cut-after-1s":       {"HTTP-16"},
	"b29-detached-context":      {"ROBUST-9"},
	"shared-copy-buffer":        {"EXPORT-3"},
}

// notShownFailingInProcess are the in-process MUSTs no in-process broken
// adapter can make fail, with why. Everything else must be in wantFailed.
var notShownFailingInProcess = map[string]string{
	"ROBUST-1": "Go's net/http server answers a malformed percent-escape with 400 before any handler sees the request, so no adapter built on it (all of the kit's, in every mode) can fail it; it exists for adapters on other servers, reached as binary, container or URL targets",
}

func TestBrokenAdaptersFailExactlyTheirRequirements(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole suite once per broken adapter")
	}
	names := map[string]bool{}
	byName := map[string]broken.Adapter{}
	var order []string
	for _, b := range broken.All() {
		names[b.Name] = true
		byName[b.Name] = b
		order = append(order, b.Name)
	}
	eachInChild(t, order, func(t *testing.T, name string) {
		b := byName[name]
		want, ok := wantFailed[b.Name]
		if !ok {
			t.Fatalf("broken adapter %s (%s) has no row in wantFailed", b.Name, b.Bug)
		}
		res, err := suite.Run(nil, runner.InProcess(b.Name, b.Integration, runner.WithReadinessTimeout(time.Second)), suite.Quiet())
		if err != nil {
			t.Fatal(err)
		}
		got := res.Failed()
		// Every failure is filed under its spec's requirement, and its
		// message says which: the checks take it from the spec.
		for _, id := range got {
			for _, msg := range res.Messages(id) {
				if !strings.HasPrefix(suite.WithoutAsyncPreamble(msg), id+" (") {
					t.Errorf("%s (%s): a failure of %s whose message does not start with %q:\n%s", b.Name, b.Bug, id, id+" (", msg)
				}
			}
		}
		want = slices.Sorted(slices.Values(want))
		if !slices.Equal(got, want) {
			t.Errorf("%s (%s)\nfailed %q\nwant   %q", b.Name, b.Bug, got, want)
			for _, id := range got {
				if !slices.Contains(want, id) {
					for _, msg := range res.Messages(id) {
						t.Logf("unexpected failure of %s:\n%s", id, msg)
					}
				}
			}
		}
	})
	for name := range wantFailed {
		if !names[name] {
			t.Errorf("wantFailed has a row for %s, which is not a broken adapter", name)
		}
	}
	if n := len(broken.All()); n < 20 {
		t.Errorf("%d broken adapters; the suite promises at least 20", n)
	}
}

// TestEveryInProcessMustIsShownFailing: a requirement that no broken adapter
// can make fail has not shown that it can fail.
func TestEveryInProcessMustIsShownFailing(t *testing.T) {
	reqs, err := suite.Requirements()
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]bool{}
	for _, ids := range wantFailed {
		for _, id := range ids {
			shown[id] = true
		}
	}
	for _, r := range reqs {
		if r.Level != "MUST" || !r.Checked() || !r.AppliesToMode(string(runner.ModeInProcess)) {
			continue
		}
		why, exempt := notShownFailingInProcess[r.ID]
		switch {
		case !shown[r.ID] && !exempt:
			t.Errorf("%s applies in-process but no broken adapter fails it", r.ID)
		case shown[r.ID] && exempt:
			t.Errorf("%s is exempt (%s) but a broken adapter fails it: drop the exemption", r.ID, why)
		}
	}
}
