package app_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/adapterconformance/adapter-conformance/app"
)

var benchSizes = []int{10, 100, 1000, 10000}

// benchTable is one generated route table served both by the App and by
// net/http.ServeMux, with requests that match in both.
type benchTable struct {
	app      *app.App
	mux      *http.ServeMux
	reqs     []*http.Request
	patterns []string // the App pattern each request must match
	// every route's request target and pattern, for TestBenchRouteTables
	allTargets, allPatterns []string
}

var (
	benchOnce   sync.Map // size -> *sync.Once
	benchTables sync.Map // size -> *benchTable
)

// routeTable generates n routes in groups of 16 under /section{k}: a quarter
// static (/section{k}/static{i}), a quarter [param] (/section{k}/p{i}/[id]), a
// quarter [...rest] (/section{k}/s{i}/[...path]) and a quarter deeper static
// routes (/section{k}/static{i}/edit). ServeMux gets the same table with its
// {id} and {path...} wildcards.
func routeTable(tb testing.TB, n int) *benchTable {
	tb.Helper()
	once, _ := benchOnce.LoadOrStore(n, new(sync.Once))
	once.(*sync.Once).Do(func() {
		m := &app.Manifest{Name: fmt.Sprintf("bench-%d", n)}
		mux := http.NewServeMux()
		ok := func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }
		var targets, patterns []string
		for i := range n {
			k := i / 16
			var pattern, muxPattern, target string
			switch i % 4 {
			case 0:
				pattern = fmt.Sprintf("/section%d/static%d", k, i)
				muxPattern, target = pattern, pattern
			case 1:
				pattern = fmt.Sprintf("/section%d/p%d/[id]", k, i)
				muxPattern = fmt.Sprintf("/section%d/p%d/{id}", k, i)
				target = fmt.Sprintf("/section%d/p%d/42", k, i)
			case 2:
				pattern = fmt.Sprintf("/section%d/s%d/[...path]", k, i)
				muxPattern = fmt.Sprintf("/section%d/s%d/{path...}", k, i)
				target = fmt.Sprintf("/section%d/s%d/a/b/c", k, i)
			case 3:
				pattern = fmt.Sprintf("/section%d/static%d/edit", k, i-3)
				muxPattern, target = pattern, pattern
			}
			m.Routes = append(m.Routes, &app.Route{Pattern: pattern, Type: app.RoutePage})
			mux.HandleFunc(muxPattern, ok)
			targets = append(targets, target)
			patterns = append(patterns, pattern)
		}
		a, err := app.New(m)
		if err != nil {
			panic(err)
		}
		t := &benchTable{app: a, mux: mux, allTargets: targets, allPatterns: patterns}
		// 64 requests spread over the whole table, so a lookup does not
		// keep hitting the same few nodes.
		const nreq = 64
		for j := range nreq {
			i := (j * n / nreq) % n
			t.reqs = append(t.reqs, httptest.NewRequest("GET", targets[i], nil))
			t.patterns = append(t.patterns, patterns[i])
		}
		benchTables.Store(n, t)
	})
	t, _ := benchTables.Load(n)
	return t.(*benchTable)
}

// TestBenchRouteTables checks that the App and ServeMux agree on every
// benchmark request, so the benchmarks compare equal work, and that every one
// of the generated routes, up to 10,000, is found by Match (the trie's child
// tables grow and rehash many times while they are built).
func TestBenchRouteTables(t *testing.T) {
	for _, n := range benchSizes {
		bt := routeTable(t, n)
		for i, target := range bt.allTargets {
			r := httptest.NewRequest("GET", target, nil)
			if route := bt.app.Match(r); route == nil || route.Pattern != bt.allPatterns[i] {
				t.Fatalf("routes=%d: Match(%s) = %v, want %s", n, target, route, bt.allPatterns[i])
			}
			miss := httptest.NewRequest("GET", target+"x", nil)
			if route := bt.app.Match(miss); route != nil && !strings.Contains(route.Pattern, "[") {
				t.Fatalf("routes=%d: Match(%s) = static %s", n, miss.URL.Path, route.Pattern)
			}
		}
		for i, r := range bt.reqs {
			route := bt.app.Match(r)
			if route == nil || route.Pattern != bt.patterns[i] {
				t.Fatalf("routes=%d: Match(%s) = %v, want %s", n, r.URL.Path, route, bt.patterns[i])
			}
			if _, pattern := bt.mux.Handler(r); pattern == "" || strings.Contains(pattern, "{") != strings.Contains(route.Pattern, "[") {
				t.Fatalf("routes=%d: ServeMux pattern %q for %s (App %s)", n, pattern, r.URL.Path, route.Pattern)
			}
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	for _, impl := range []string{"app", "servemux"} {
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("%s/routes=%d", impl, n), func(b *testing.B) {
				bt := routeTable(b, n)
				reqs := bt.reqs
				b.ReportAllocs()
				b.ResetTimer()
				i := 0
				switch impl {
				case "app":
					for b.Loop() {
						if bt.app.Match(reqs[i%len(reqs)]) == nil {
							b.Fatal("no match")
						}
						i++
					}
				case "servemux":
					for b.Loop() {
						if _, p := bt.mux.Handler(reqs[i%len(reqs)]); p == "" {
							b.Fatal("no match")
						}
						i++
					}
				}
			})
		}
	}
}

// serveApp is the least an adapter does with the App: render the request and
// copy the response's status, header and body to the ResponseWriter.
func serveApp(a *app.App, w http.ResponseWriter, r *http.Request) {
	resp := a.Render(r)
	h := w.Header()
	for k, vs := range resp.Header {
		h[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
	resp.Body.Close()
}

// renderedPage is what the App answers one benchmark request with.
type renderedPage struct {
	status int
	header http.Header
	body   []byte
}

// bareHandler is an http.Handler that writes page as it is: the same status,
// header and body the App renders, with none of the App's work.
func bareHandler(page renderedPage) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, vs := range page.header {
			h[k] = vs
		}
		w.WriteHeader(page.status)
		w.Write(page.body)
	}
}

// renderPair is the App and, for each benchmark request, a bare handler
// writing the bytes the App renders for it (issue 19, item 5).
type renderPair struct {
	bt       *benchTable
	handlers []http.HandlerFunc
}

func newRenderPair(tb testing.TB, n int) *renderPair {
	tb.Helper()
	bt := routeTable(tb, n)
	p := &renderPair{bt: bt}
	for _, r := range bt.reqs {
		rec := httptest.NewRecorder()
		serveApp(bt.app, rec, r)
		p.handlers = append(p.handlers, bareHandler(renderedPage{rec.Code, rec.Header().Clone(), rec.Body.Bytes()}))
	}
	return p
}

// serve answers request i through the App (app) or its bare handler, into
// a fresh recorder, as a server gives each request a fresh ResponseWriter.
func (p *renderPair) serve(i int, app bool) *httptest.ResponseRecorder {
	i %= len(p.bt.reqs)
	rec := httptest.NewRecorder()
	if app {
		serveApp(p.bt.app, rec, p.bt.reqs[i])
	} else {
		p.handlers[i](rec, p.bt.reqs[i])
	}
	return rec
}

// TestRenderPair checks that the bare handlers write exactly what the App
// renders (status, header and body), so BenchmarkRender's pair compares the
// App's work with nothing but writing its bytes.
func TestRenderPair(t *testing.T) {
	for _, n := range benchSizes {
		p := newRenderPair(t, n)
		for i, r := range p.bt.reqs {
			got, want := p.serve(i, true), p.serve(i, false)
			if got.Code != 200 || got.Code != want.Code || !reflect.DeepEqual(got.Header(), want.Header()) || !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
				t.Fatalf("routes=%d %s: App wrote %d %v %q, bare handler %d %v %q", n, r.URL.Path, got.Code, got.Header(), got.Body, want.Code, want.Header(), want.Body)
			}
			if !strings.Contains(got.Body.String(), `data-route="`+p.bt.patterns[i]+`"`) {
				t.Fatalf("routes=%d %s: page is not %s's: %s", n, r.URL.Path, p.bt.patterns[i], got.Body)
			}
		}
	}
}

// BenchmarkRender serves a tiny page through the App (app, with the least
// glue an adapter needs), through a bare http.Handler writing the same bytes
// (handler), and through net/http.ServeMux to a handler writing "ok"
// (servemux). Each request gets a fresh httptest.ResponseRecorder.
func BenchmarkRender(b *testing.B) {
	for _, impl := range []string{"app", "handler", "servemux"} {
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("%s/routes=%d", impl, n), func(b *testing.B) {
				p := newRenderPair(b, n)
				bt := p.bt
				reqs := bt.reqs
				b.ReportAllocs()
				b.ResetTimer()
				i := 0
				switch impl {
				case "app", "handler":
					for b.Loop() {
						if rec := p.serve(i, impl == "app"); rec.Code != 200 {
							b.Fatal(rec.Code)
						}
						i++
					}
				case "servemux":
					for b.Loop() {
						rec := httptest.NewRecorder()
						bt.mux.ServeHTTP(rec, reqs[i%len(reqs)])
						if rec.Code != 200 {
							b.Fatal(rec.Code)
						}
						i++
					}
				}
			})
		}
	}
}

// BenchmarkRenderRatio reports the App's throughput over the bare handler's
// (handler time / app time, issue 19 item 5: at least 0.8) from one run:
// each iteration serves a batch of the benchmark's requests through each,
// in alternating order, so both see the same machine load. It also reports
// each one's time per request and allocations per request.
func BenchmarkRenderRatio(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			p := newRenderPair(b, n)
			batch := len(p.bt.reqs)
			allocs := func(app bool) float64 {
				i := 0
				return testing.AllocsPerRun(200, func() { p.serve(i, app); i++ })
			}
			appAllocs, handlerAllocs := allocs(true), allocs(false)
			run := func(app bool) time.Duration {
				start := time.Now()
				for i := range batch {
					if rec := p.serve(i, app); rec.Code != 200 {
						b.Fatal(rec.Code)
					}
				}
				return time.Since(start)
			}
			var appTime, handlerTime time.Duration
			first := true
			b.ResetTimer()
			for b.Loop() {
				if first {
					appTime += run(true)
					handlerTime += run(false)
				} else {
					handlerTime += run(false)
					appTime += run(true)
				}
				first = !first
			}
			renders := float64(b.N * batch)
			b.ReportMetric(float64(handlerTime)/float64(appTime), "app/handler-throughput")
			b.ReportMetric(float64(appTime.Nanoseconds())/renders, "app-ns/req")
			b.ReportMetric(float64(handlerTime.Nanoseconds())/renders, "handler-ns/req")
			b.ReportMetric(appAllocs, "app-allocs/req")
			b.ReportMetric(handlerAllocs, "handler-allocs/req")
		})
	}
}
