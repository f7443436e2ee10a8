package app_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

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

func BenchmarkRender(b *testing.B) {
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
						resp := bt.app.Render(reqs[i%len(reqs)])
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != 200 {
							b.Fatal(resp.Status)
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
