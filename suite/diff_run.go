package suite

import (
	"cmp"
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/onsi/ginkgo/v2"

	"github.com/adapterconformance/adapter-conformance/app"
)

// Running the differential corpus on a host (DIFF-1..5): each request sent
// and compared (diff_compare.go), each difference sent again alone and
// shrunk to its minimal request, and the DIFF specs' failure messages.

// diffRun is a corpus run on one host: its minimal differences by
// requirement, computed once and shared by the DIFF specs.
type diffRun struct {
	once    sync.Once
	byID    map[string][]diffResult
	sent    int
	skipped int
	// concurrentOnly counts differences that went away when the request
	// was sent again on its own.
	concurrentOnly int
	seed           uint64
	corpus         int
}

// send sends one corpus request and compares it with the App's answer, or,
// for a request that names a public file, with the file (see fileAnswer).
func (h *hostEnv) diffSend(ctx context.Context, a *app.App, q diffReq) diffResult {
	method, target, body, opts := q.request()
	c := h.http
	if q.dims[dimPeer] != 0 {
		c = h.http6
	}
	ex := c.send(ctx, method, target, body, opts...)
	want := appAnswer(a, ex)
	diff := diffCompare(ex, want)
	if diff != "" && h.shape == app.ShapeLambdaV1 {
		for _, other := range restKeyOrders(a, ex) {
			if diffCompare(ex, other) == "" {
				want, diff = other, ""
				break
			}
		}
	}
	if q.route.asset {
		if file, ok := h.fileAnswer(a, target); ok {
			switch {
			case h.servesFiles():
				want, diff = file, fileCompare(ex, file)
			case diff != "" && fileCompare(ex, file) == "":
				// A host that is not required to serve public files
				// (MATCH-4) may still do so: a Lambda bridge with a
				// file handler. Either answer is right (SPEC.md, DIFF).
				want, diff = file, ""
			}
		}
	}
	return diffResult{req: q, ex: ex, want: want, diff: diff}
}

// carriersLast orders the dimensions from the one a difference is most
// likely about to the one most likely only carrying it. The method decides
// which handler answers, and so whether the answer shows the request at
// all: a path the adapter decoded shows only on the 404 page, which only a
// method the route lacks reaches (a PROPFIND on a percent-encoded letter,
// B42). A body needs a method that carries it, and a framing a body. The
// peer and the request target come first: nothing else carries them.
var carriersLast = [numDims]int{dimPeer, dimPath, dimQuery, dimHeaders, dimFraming, dimBody, dimMethod}

// shrink drops the request's dimensions one at a time (each reset to its
// plain value) while the difference remains, carriers last, so that a
// dimension is kept only when nothing else carries the difference.
func (h *hostEnv) shrink(ctx context.Context, a *app.App, r diffResult) diffResult {
	// A 1 MiB body is first made the 64 KiB one, the next smaller value of
	// the same kind: when the very same difference shows with that too (a
	// difference about the body names its size or hash, so it is not the
	// same), the minimal request carries the smaller body, and shrinking it
	// further costs a tenth as much (through a Lambda gateway under the
	// race detector, a 1 MiB request costs about a quarter of a second;
	// issue 19 item 6). Another difference would be another bug's: an
	// adapter that fails bodies over 64 KiB and a header variant too must
	// still have its 1 MiB difference shrunk to the body.
	if r.req.binaryBodySize() == 1<<20 {
		q := r.req
		q.dims[dimBody] = slices.Index(diffBodies, "binary-64KiB")
		if t := h.diffSend(ctx, a, q); t.diff == r.diff {
			r = t
		}
	}
	for _, d := range carriersLast {
		if r.req.dims[d] == 0 {
			continue
		}
		q := r.req
		q.dims[d] = 0
		if d == dimBody {
			q.dims[dimFraming] = 0
		}
		if d == dimMethod && q.dims[dimBody] != 0 {
			continue // a GET carries no body
		}
		if t := h.diffSend(ctx, a, q); t.diff != "" {
			r = t
		}
	}
	// What remains varied is what matters: each made plain in turn gets
	// the App's answer (sent again here, for the report to show it).
	for _, d := range r.req.varied() {
		q := r.req
		q.dims[d] = 0
		if d == dimBody {
			q.dims[dimFraming] = 0
		}
		if d == dimMethod && q.dims[dimBody] != 0 {
			continue
		}
		if t := h.diffSend(ctx, a, q); t.diff == "" {
			r.contrasts = append(r.contrasts, diffContrast{dim: d, ex: t.ex})
		}
	}
	h.carriers(ctx, a, &r)
	return r
}

// carriers tells, when the dimensions that matter to a minimal difference
// span requirements, which one the difference is about and which only
// carry it, by trying each one's other values: a carrier shows the
// difference with most of them, the dimension it is about with few. A
// PROPFIND on a percent-encoded letter whose 404 page shows the path
// decoded differs with any method the route lacks, but only with the
// encoded paths: a path bug (B42). A HEAD that fails on a path that is a
// 404 differs with every path variant that is a 404, but only with HEAD:
// a method bug (B25), the path only moving it off a route that throws.
func (h *hostEnv) carriers(ctx context.Context, a *app.App, r *diffResult) {
	matters := r.matters()
	groups := map[string]bool{}
	for _, d := range matters {
		groups[diffGroup(d)] = true
	}
	if len(groups) < 2 {
		return
	}
	r.generality = map[int]float64{}
	for _, d := range matters {
		var tried, shown int
		for v := 1; v < dimSizes[d]; v++ {
			q := r.req
			q.dims[d] = v
			if v == r.req.dims[d] || !h.sendable(q, d) {
				continue
			}
			tried++
			if h.diffSend(ctx, a, q).diff != "" {
				shown++
			}
		}
		if tried > 0 {
			r.generality[d] = float64(shown) / float64(tried)
		}
	}
}

// sendable says whether a request with dimension d changed is one the
// corpus could hold: not excluded on this host and route, a body only on
// a method that carries one, a framing only for a body with bytes.
func (h *hostEnv) sendable(q diffReq, d int) bool {
	if diffExcludedOn(h.shape, q.route, d, q.dims[d]) {
		return false
	}
	if q.dims[dimBody] != 0 && !unsafeMethod(diffMethods[q.dims[dimMethod]]) {
		return false
	}
	return q.dims[dimFraming] == 0 || q.dims[dimBody] > 1
}

func (h *hostEnv) runDiff(ctx context.Context) *diffRun {
	h.diffOnce.once.Do(func() {
		run := &h.diffOnce
		run.seed, run.corpus = h.fx.seed, h.fx.corpus
		run.byID = map[string][]diffResult{}
		a, err := h.fx.referenceApp()
		if err != nil {
			ginkgo.Fail("the kit's own App for the fixture: " + err.Error())
		}
		corpus := buildCorpus(h.fx.manifest, h.shape, run.seed, run.corpus, h.http6 != nil)
		var todo []diffReq
		for _, q := range corpus {
			if h.host.Middleware {
				// In middleware mode a request the App does not match is
				// next's (MATCH-1).
				method, target, _, _ := q.request()
				if a.Match(httptest.NewRequest(method, target, nil)) == nil {
					run.skipped++
					continue
				}
			}
			todo = append(todo, q)
		}
		results := make([]diffResult, len(todo))
		var wg sync.WaitGroup
		sem := make(chan struct{}, diffConcurrency)
		for i, q := range todo {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				results[i] = h.diffSend(ctx, a, q)
			}()
		}
		wg.Wait()
		run.sent = len(todo)
		h.fx.results.addDiffRequests(run.sent)
		// A route whose plain request got the App's answer cannot shrink
		// to DIFF-4; one whose plain request differed, or was not sent, can.
		plainPassed := map[string]bool{}
		for _, r := range results {
			if len(r.req.varied()) == 0 && r.diff == "" {
				plainPassed[r.req.route.path] = true
			}
		}
		// Differences are shrunk smallest body first: which requirements
		// fail does not depend on the order (shrinkMayAdd), and one that
		// carries a 1 MiB body, whose every request costs about a quarter
		// of a second through a Lambda gateway under the race detector
		// (issue 19 item 6), is then shrunk only when no cheaper one gave
		// its requirements their evidence.
		var diffs []diffResult
		for _, r := range results {
			if r.diff != "" {
				diffs = append(diffs, r)
			}
		}
		slices.SortStableFunc(diffs, func(a, b diffResult) int { return cmp.Compare(a.req.binaryBodySize(), b.req.binaryBodySize()) })
		seen := map[string]bool{}
		for _, r := range diffs {
			if !shrinkMayAdd(run.byID, r.req, plainPassed[r.req.route.path]) {
				continue // every requirement it could shrink to has its evidence
			}
			// Sent again on its own: a difference that only concurrent
			// requests show is EXPORT-3's and EXPORT-5's business, and
			// shrinking must be deterministic.
			if again := h.diffSend(ctx, a, r.req); again.diff == "" {
				run.concurrentOnly++
				continue
			}
			m := h.shrink(ctx, a, r)
			if seen[m.req.key()] {
				continue
			}
			seen[m.req.key()] = true
			id := diffIDOf(m)
			run.byID[id] = append(run.byID[id], m)
		}
	})
	return &h.diffOnce
}

// diffIDOf is the requirement a minimal difference is reported under:
// DIFF-4 when the plain request differs, else the group of the dimension
// that matters; when several matter, of the least general one (see
// carriers), and among equally general ones the first in dimension order:
// a HEAD turned into a GET shows only on a doubled slash (the App's
// redirect is a 308 for a HEAD, a 301 for a GET), and only with HEAD, and
// is reported as the method's.
func diffIDOf(r diffResult) string {
	about := -1
	for _, d := range r.matters() {
		if about < 0 || r.generality[d] < r.generality[about] {
			about = d
		}
	}
	if about < 0 {
		return "DIFF-4"
	}
	return diffGroup(about)
}

// shrinkMayAdd says whether shrinking q could add evidence: whether a
// requirement its minimal request may be reported under (the group of a
// dimension it varies, or DIFF-4 unless the route's plain request got the
// App's answer) has fewer than diffMaxShrunkPerID minimal requests yet.
// Shrinking only makes dimensions plain, so no other requirement can come
// of it; which requirements fail is therefore the same as if every
// difference were shrunk, whatever the corpus order, and only the evidence
// per requirement is bounded.
func shrinkMayAdd(byID map[string][]diffResult, q diffReq, plainPassed bool) bool {
	if !plainPassed && len(byID["DIFF-4"]) < diffMaxShrunkPerID {
		return true
	}
	for _, d := range q.varied() {
		if len(byID[diffGroup(d)]) < diffMaxShrunkPerID {
			return true
		}
	}
	return false
}

// registerDiff registers the DIFF specs on a host.
func registerDiff(h *hostEnv) {
	titles := map[string]string{
		"DIFF-1": "the corpus's methods, bodies and framings get the App's answer",
		"DIFF-2": "the corpus's header variants get the App's answer",
		"DIFF-3": "the corpus's path and query variants get the App's answer",
		"DIFF-4": "each route's plain request gets the App's answer",
		"DIFF-5": "the corpus's requests from an IPv6 peer get the App's answer",
	}
	for _, id := range diffIDs {
		h.it(id, titles[id], func(ctx ginkgo.SpecContext) {
			// The peer dimension's requirement needs the host's IPv6 listener.
			if id == diffGroup(dimPeer) && h.http6 == nil {
				ginkgo.Skip("cannot be checked: the host has no listener on the IPv6 loopback (the machine has no ::1), so the corpus came from IPv4 only")
			}
			run := h.runDiff(ctx)
			found := run.byID[id]
			if len(found) == 0 {
				return
			}
			sort.SliceStable(found, func(i, j int) bool { return len(found[i].req.varied()) < len(found[j].req.varied()) })
			for _, r := range found[:min(len(found), 3)] {
				attach(r.ex)
			}
			ginkgo.Fail(diffMessage(id, run, found))
		})
	}
}

func diffMessage(id string, run *diffRun, found []diffResult) string {
	var b strings.Builder
	req, _ := RequirementByID(id)
	fmt.Fprintf(&b, "%s (%s): %s\n", id, req.Level, req.Text)
	r := found[0]
	if v := r.req.varied(); len(v) > 0 {
		var names []string
		for _, d := range r.matters() {
			names = append(names, dimNames[d]+" ("+dimValueName(d, r.req.dims[d])+")")
		}
		fmt.Fprintf(&b, "expected: the App's answer; the minimal request that differs is %s: the dimension that matters is %s; got %s\n", r.req.describe(), strings.Join(names, " with "), r.diff)
	} else {
		fmt.Fprintf(&b, "expected: the App's answer to %s; got %s\n", r.req.describe(), r.diff)
	}
	count := strconv.Itoa(len(found))
	if len(found) >= diffMaxShrunkPerID {
		count = "at least " + count // shrinking stopped there
	}
	fmt.Fprintf(&b, "corpus: seed %d, %d requests sent; %s minimal request(s) differ under %s; rerun with --seed %d --focus %s\n", run.seed, run.sent, count, id, run.seed, id)
	fmt.Fprintf(&b, "exchange with the %s host (%s):\n%s", r.ex.hostInfo.Shape, r.ex.hostInfo.Export, r.ex.dump())
	if r.want.file {
		fmt.Fprintf(&b, "the public file's answer (status, bytes, and the media type for .svg and .txt):\n  < %d\n", r.want.status)
	} else {
		fmt.Fprintf(&b, "what the App answers to the same request:\n  < %d\n", r.want.status)
	}
	writeHeaders(&b, "  < ", r.want.header)
	fmt.Fprintf(&b, "  < (%d body bytes) %s\n", len(r.want.body), excerpt(r.want.body))
	for _, c := range r.contrasts {
		if !slices.Contains(r.matters(), c.dim) {
			continue
		}
		fmt.Fprintf(&b, "contrast (%s made plain): %s it arrives intact, and the App's answer comes back:\n%s", dimNames[c.dim], plainPhrase[c.dim], c.ex.dump())
	}
	for _, o := range found[1:min(len(found), diffMaxShrunkPerID)] {
		fmt.Fprintf(&b, "also: %s %s: %s: %s\n", o.ex.method, o.ex.target, o.req.describe(), o.diff)
	}
	return b.String()
}

// diffMaxShrunkPerID bounds the minimal requests kept per DIFF
// requirement and host: at it, the requirement has the evidence its
// message shows (five) and shrinking more only costs time, about ten
// requests per difference (issue 19 item 6). Which requirements fail does
// not depend on it (see shrinkMayAdd). The bound is per requirement, not
// per host, so that one requirement's many differences never crowd out
// another's.
const diffMaxShrunkPerID = 5

// diffConcurrency is how many corpus requests are in flight at once. One:
// in corpus order, a stateful adapter's differences (a restart after a
// failing route, B17) come out the same for the same seed, and in process
// eight at a time was no faster on the kit's 2-core CI machine (measured:
// the corpus of one host takes 0.1 to 0.3 s either way). Concurrency is
// EXPORT-3's and EXPORT-5's business.
var diffConcurrency = 1
