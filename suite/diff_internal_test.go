package suite

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/fixtures"
	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/handler"
	"github.com/adapterconformance/adapter-conformance/runner"
)

// TestDiffCorpusCoversEveryValue: the corpus is a covering of its
// dimensions: for every route kind, every value of every dimension that the
// shape does not exclude appears at least once; it is the same for the same
// seed, another for another seed, and of the size asked for.
func TestDiffCorpusCoversEveryValue(t *testing.T) {
	for _, fixture := range []string{"basic", "base-app"} {
		m, err := fixtures.Resolve(fixture)
		if err != nil {
			t.Fatal(err)
		}
		for _, shape := range shapesDriven {
			c := buildCorpus(m, shape, DefaultSeed, DefaultCorpus, true)
			if len(c) < 100 || len(c) > 2*DefaultCorpus {
				t.Errorf("%s %s: %d requests, want a few hundred", fixture, shape, len(c))
			}
			byRoute := map[string][numDims]map[int]bool{}
			routes := map[string]diffRoute{}
			big, assets := 0, 0
			for _, q := range c {
				routes[q.route.kind] = q.route
				if diffBodies[q.dims[dimBody]] == "binary-1MiB" {
					big++
				}
				if q.route.asset {
					assets++
				}
				seen, ok := byRoute[q.route.kind]
				if !ok {
					for d := range seen {
						seen[d] = map[int]bool{}
					}
					byRoute[q.route.kind] = seen
				}
				for d, v := range q.dims {
					if diffExcludedOn(shape, q.route, d, v) {
						t.Errorf("%s %s: %s uses %s %q, which the shape excludes", fixture, shape, q.describe(), dimNames[d], dimValueName(d, v))
					}
					seen[d][v] = true
				}
			}
			if fixture == "base-app" && !slices.ContainsFunc(c, func(q diffReq) bool { return strings.HasPrefix(q.route.path, "/app/") }) {
				t.Errorf("%s: no request under the base", fixture)
			}
			// The 1 MiB body: a few times per fixture, not on every route.
			if big == 0 || big > 12 {
				t.Errorf("%s %s: %d requests with a 1 MiB body, want a few", fixture, shape, big)
			}
			if assets == 0 {
				t.Errorf("%s %s: no request for a public file", fixture, shape)
			}
			for kind, seen := range byRoute {
				for d := range numDims {
					for v := range dimSizes[d] {
						if !seen[d][v] && !diffExcludedOn(shape, routes[kind], d, v) {
							t.Errorf("%s %s: route %s never has %s %q", fixture, shape, kind, dimNames[d], dimValueName(d, v))
						}
					}
				}
			}
			again := buildCorpus(m, shape, DefaultSeed, DefaultCorpus, true)
			if !slices.Equal(c, again) {
				t.Errorf("%s %s: the same seed gave another corpus", fixture, shape)
			}
			if other := buildCorpus(m, shape, DefaultSeed+1, DefaultCorpus, true); slices.Equal(c, other) {
				t.Errorf("%s %s: another seed gave the same corpus", fixture, shape)
			}
		}
	}
	m, _ := fixtures.Resolve("basic")
	if big := buildCorpus(m, app.ShapeHandler, DefaultSeed, 2000, true); len(big) < 1500 {
		t.Errorf("--corpus 2000 gave %d requests", len(big))
	}
}

// TestDiffCorpusPeerIsIndependent: without an IPv6 listener every request
// comes from the IPv4 loopback, and every other dimension's values are
// those of the corpus with one, so a seed's corpus (and which broken
// controls fail what) is the same on a host with and without ::1.
func TestDiffCorpusPeerIsIndependent(t *testing.T) {
	m, err := fixtures.Resolve("basic")
	if err != nil {
		t.Fatal(err)
	}
	for _, shape := range shapesDriven {
		with := buildCorpus(m, shape, DefaultSeed, DefaultCorpus, true)
		without := buildCorpus(m, shape, DefaultSeed, DefaultCorpus, false)
		if len(with) != len(without) {
			t.Fatalf("%s: %d requests with ::1, %d without", shape, len(with), len(without))
		}
		ipv6 := 0
		for i := range with {
			if without[i].dims[dimPeer] != 0 {
				t.Errorf("%s: %s comes from ::1 on a host without it", shape, without[i].describe())
			}
			if with[i].dims[dimPeer] != 0 {
				ipv6++
			}
			a, b := with[i], without[i]
			a.dims[dimPeer], b.dims[dimPeer] = 0, 0
			if a != b {
				t.Errorf("%s: request %d is %s with ::1 and %s without", shape, i, a.describe(), b.describe())
			}
		}
		if ipv6 < len(with)/4 {
			t.Errorf("%s: %d of %d requests from ::1, want about half", shape, ipv6, len(with))
		}
	}
}

// TestShrinkStopsPerRequirement: a difference is shrunk while a requirement
// it could be reported under lacks evidence, so one requirement's many
// differences never keep another from being found (the corpus order does
// not decide which DIFF requirements fail).
func TestShrinkStopsPerRequirement(t *testing.T) {
	full := func(ids ...string) map[string][]diffResult {
		m := map[string][]diffResult{}
		for _, id := range ids {
			m[id] = make([]diffResult, diffMaxShrunkPerID)
		}
		return m
	}
	var methodOnly, methodAndPath diffReq
	methodOnly.dims[dimMethod] = 1
	methodAndPath.dims[dimMethod] = 1
	methodAndPath.dims[dimPath] = 2
	for _, c := range []struct {
		name        string
		byID        map[string][]diffResult
		q           diffReq
		plainPassed bool
		want        bool
	}{
		{"its only group has its evidence", full("DIFF-1"), methodOnly, true, false},
		{"nothing found yet", full(), methodOnly, true, true},
		{"a path variant while DIFF-1 crowds the run", full("DIFF-1"), methodAndPath, true, true},
		{"both groups have their evidence", full("DIFF-1", "DIFF-3"), methodAndPath, true, false},
		{"the route's plain request differed", full("DIFF-1", "DIFF-3"), methodAndPath, false, true},
		{"every group has its evidence", full("DIFF-1", "DIFF-3", "DIFF-4"), methodAndPath, false, false},
	} {
		if got := shrinkMayAdd(c.byID, c.q, c.plainPassed); got != c.want {
			t.Errorf("%s: shrinkMayAdd = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestDiffIDNamesWhatTheDifferenceIsAbout: when the dimensions that matter
// to a minimal difference span requirements, it is reported under the one
// fewest of whose other values show it: B42's PROPFIND on a percent-encoded
// letter (any method the route lacks shows it, only the encoded paths do)
// under DIFF-3, B25's HEAD on a path that is a 404 (every 404 path shows
// it, only HEAD does) under DIFF-1.
func TestDiffIDNamesWhatTheDifferenceIsAbout(t *testing.T) {
	minimal := func(dims map[int]int, generality map[int]float64, matter ...int) diffResult {
		var r diffResult
		for d, v := range dims {
			r.req.dims[d] = v
		}
		for _, d := range matter {
			r.contrasts = append(r.contrasts, diffContrast{dim: d})
		}
		r.generality = generality
		return r
	}
	propfind := slices.Index(diffMethods, "PROPFIND")
	head := slices.Index(diffMethods, "HEAD")
	encoded := slices.Index(diffPaths, "percent-encoded letter")
	nfd := slices.Index(diffPaths, "Unicode NFD")
	for _, c := range []struct {
		name string
		r    diffResult
		want string
	}{
		{"the plain request", minimal(nil, nil), "DIFF-4"},
		{"a method alone", minimal(map[int]int{dimMethod: propfind}, nil, dimMethod), "DIFF-1"},
		{"B42: a decoded path the method carries", minimal(map[int]int{dimMethod: propfind, dimPath: encoded}, map[int]float64{dimMethod: 5.0 / 6, dimPath: 3.0 / 8}, dimMethod, dimPath), "DIFF-3"},
		{"B25: a HEAD the path carries to a 404", minimal(map[int]int{dimMethod: head, dimPath: nfd}, map[int]float64{dimMethod: 0, dimPath: 6.0 / 8}, dimMethod, dimPath), "DIFF-1"},
		{"a method and a path, the method alone mattering", minimal(map[int]int{dimMethod: propfind, dimPath: encoded}, nil, dimMethod), "DIFF-1"},
		{"a body and its framing", minimal(map[int]int{dimMethod: 2, dimBody: 2, dimFraming: 1}, nil, dimBody, dimFraming), "DIFF-1"},
		{"equally general: the first dimension's", minimal(map[int]int{dimMethod: head, dimPath: slices.Index(diffPaths, "doubled slash")}, map[int]float64{dimMethod: 0, dimPath: 0}, dimMethod, dimPath), "DIFF-1"},
		{"the peer, which has no other value", minimal(map[int]int{dimPeer: 1, dimPath: encoded}, map[int]float64{dimPath: 0.2}, dimPeer, dimPath), "DIFF-5"},
	} {
		if got := diffIDOf(c.r); got != c.want {
			t.Errorf("%s: reported under %s, want %s", c.name, got, c.want)
		}
	}
}

// TestShrinkTriesTheSmallerBodyForTheSameDifference: a difference with the
// 1 MiB body is shrunk through the 64 KiB one when that shows the very same
// difference, and keeps its 1 MiB body, under the body's requirement, when
// the 64 KiB one shows another: an adapter that refuses bodies over 64 KiB
// and also fails a repeated header must have the first filed under DIFF-1.
func TestShrinkTriesTheSmallerBodyForTheSameDifference(t *testing.T) {
	m, err := fixtures.Resolve("basic")
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(m)
	if err != nil {
		t.Fatal(err)
	}
	good, err := handler.New(m)
	if err != nil {
		t.Fatal(err)
	}
	var large atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > 64<<10 {
			large.Add(1)
		}
		switch {
		case r.URL.RawQuery != "":
			http.Error(w, "no queries here", http.StatusBadRequest)
		case r.ContentLength > 64<<10:
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		case len(r.Header.Values("X-Multi")) > 1:
			http.Error(w, "repeated header", http.StatusInternalServerError)
		default:
			good.ServeHTTP(w, r)
		}
	}))
	defer srv.Close()
	h := &hostEnv{shape: app.ShapeHandler, http: newClient(&runner.Host{URL: srv.URL}, runner.DefaultTimeouts().Request)}
	defer h.http.close()
	var q diffReq
	q.route = diffRoute{kind: "/api/echo-all", path: "/api/echo-all", echo: true}
	q.dims[dimMethod] = slices.Index(diffMethods, "POST")
	q.dims[dimBody] = slices.Index(diffBodies, "binary-1MiB")

	// The same difference (the query) with 64 KiB: no more 1 MiB requests.
	query := q
	query.dims[dimQuery] = slices.Index(diffQueries, "repeated keys")
	r := h.diffSend(t.Context(), a, query)
	before := large.Load()
	if shrunk := h.shrink(t.Context(), a, r); diffIDOf(shrunk) != "DIFF-3" {
		t.Errorf("a query difference shrank to %s (%s), want DIFF-3", shrunk.req.describe(), diffIDOf(shrunk))
	}
	if n := large.Load() - before; n != 0 {
		t.Errorf("shrinking a difference the 64 KiB body shows too sent %d more 1 MiB requests", n)
	}

	// Another difference with 64 KiB (the header): the 1 MiB body stays.
	header := q
	header.dims[dimHeaders] = slices.Index(diffHeaders, "repeated field")
	refused := h.shrink(t.Context(), a, h.diffSend(t.Context(), a, header))
	if diffIDOf(refused) != "DIFF-1" || refused.req.binaryBodySize() != 1<<20 {
		t.Errorf("a 1 MiB body refused shrank to %s (%s), want the 1 MiB body under DIFF-1", refused.req.describe(), diffIDOf(refused))
	}
}
