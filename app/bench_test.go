package app_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
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

// renderVariant is one way of answering a benchmark request.
type renderVariant int

const (
	// viaApp renders through the App and reads the response's body, as
	// the App's API ends: the issue's "rendering a tiny page through the
	// App" (BenchmarkRender's app).
	viaApp renderVariant = iota
	// viaHandler is the bare handler writing the same bytes into a fresh
	// recorder, the ResponseWriter a server would hand it (handler).
	viaHandler
	// viaAppServed is the App behind the least adapter glue, into a fresh
	// recorder: the same sink as viaHandler (app-served).
	viaAppServed
)

// serve answers request i one way and reports its status.
func (p *renderPair) serve(i int, v renderVariant) int {
	i %= len(p.bt.reqs)
	r := p.bt.reqs[i]
	switch v {
	case viaApp:
		resp := p.bt.app.Render(r)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	case viaHandler:
		rec := httptest.NewRecorder()
		p.handlers[i](rec, r)
		return rec.Code
	default:
		rec := httptest.NewRecorder()
		serveApp(p.bt.app, rec, r)
		return rec.Code
	}
}

// TestRenderPair checks that the bare handlers write exactly what the App
// renders (status, header and body), so BenchmarkRender's pair compares the
// App's work with nothing but writing its bytes.
func TestRenderPair(t *testing.T) {
	for _, n := range benchSizes {
		p := newRenderPair(t, n)
		for i, r := range p.bt.reqs {
			resp := p.bt.app.Render(r)
			body, _ := io.ReadAll(resp.Body)
			want := httptest.NewRecorder()
			p.handlers[i](want, r)
			if resp.StatusCode != 200 || resp.StatusCode != want.Code || !reflect.DeepEqual(resp.Header, want.Header()) || !bytes.Equal(body, want.Body.Bytes()) {
				t.Fatalf("routes=%d %s: App rendered %d %v %q, bare handler wrote %d %v %q", n, r.URL.Path, resp.StatusCode, resp.Header, body, want.Code, want.Header(), want.Body)
			}
			if !strings.Contains(string(body), `data-route="`+p.bt.patterns[i]+`"`) {
				t.Fatalf("routes=%d %s: page is not %s's: %s", n, r.URL.Path, p.bt.patterns[i], body)
			}
		}
	}
}

// BenchmarkRender renders a tiny page through the App (app: Render, then the
// body read), serves the same bytes from a bare http.Handler into a fresh
// httptest.ResponseRecorder (handler), serves the App behind the least
// adapter glue into a fresh recorder (app-served), and routes through
// net/http.ServeMux to a handler writing "ok" (servemux).
func BenchmarkRender(b *testing.B) {
	variants := map[string]renderVariant{"app": viaApp, "handler": viaHandler, "app-served": viaAppServed}
	for _, impl := range []string{"app", "handler", "app-served", "servemux"} {
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("%s/routes=%d", impl, n), func(b *testing.B) {
				p := newRenderPair(b, n)
				bt := p.bt
				reqs := bt.reqs
				b.ReportAllocs()
				b.ResetTimer()
				i := 0
				if impl == "servemux" {
					for b.Loop() {
						rec := httptest.NewRecorder()
						bt.mux.ServeHTTP(rec, reqs[i%len(reqs)])
						if rec.Code != 200 {
							b.Fatal(rec.Code)
						}
						i++
					}
					return
				}
				for b.Loop() {
					if code := p.serve(i, variants[impl]); code != 200 {
						b.Fatal(code)
					}
					i++
				}
			})
		}
	}
}

// BenchmarkRenderRatio reports, from one run, the App's throughput over the
// bare handler's: app/handler (issue 19 item 5: at least 0.8) and
// app-served/handler, the App behind adapter glue into the same kind of
// recorder the handler writes to. Each iteration serves a batch of requests
// each way, in rotating order, and takes the ratios of the batch times; a
// reported ratio is the median over the iterations, so that a batch the
// scheduler preempted on a loaded machine does not decide it. It also
// reports each way's time and allocations per request.
func BenchmarkRenderRatio(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			p := newRenderPair(b, n)
			const batch = 16
			ways := []renderVariant{viaApp, viaHandler, viaAppServed}
			var allocs [3]float64
			for _, v := range ways {
				i := 0
				allocs[v] = testing.AllocsPerRun(200, func() { p.serve(i, v); i++ })
			}
			next := 0
			run := func(v renderVariant) time.Duration {
				start := time.Now()
				for i := next; i < next+batch; i++ {
					if code := p.serve(i, v); code != 200 {
						b.Fatal(code)
					}
				}
				return time.Since(start)
			}
			var total [3]time.Duration
			var appRatios, servedRatios []float64
			b.ResetTimer()
			for b.Loop() {
				var t [3]time.Duration
				for k := range ways {
					v := ways[(k+len(appRatios))%len(ways)]
					t[v] = run(v)
					total[v] += t[v]
				}
				next += batch
				appRatios = append(appRatios, float64(t[viaHandler])/float64(t[viaApp]))
				servedRatios = append(servedRatios, float64(t[viaHandler])/float64(t[viaAppServed]))
			}
			b.StopTimer()
			median := func(x []float64) float64 { slices.Sort(x); return x[len(x)/2] }
			perReq := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N*batch) }
			b.ReportMetric(median(appRatios), "app/handler")
			b.ReportMetric(median(servedRatios), "app-served/handler")
			b.ReportMetric(perReq(total[viaApp]), "app-ns/req")
			b.ReportMetric(perReq(total[viaHandler]), "handler-ns/req")
			b.ReportMetric(perReq(total[viaAppServed]), "app-served-ns/req")
			b.ReportMetric(allocs[viaApp], "app-allocs/req")
			b.ReportMetric(allocs[viaHandler], "handler-allocs/req")
			b.ReportMetric(allocs[viaAppServed], "app-served-allocs/req")
		})
	}
}
