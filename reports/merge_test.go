package reports_test

import (
	"bytes"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/adapterconformance/adapter-conformance/reports"
	"github.com/adapterconformance/adapter-conformance/suite"
)

// splitShards is what n shards of the run results() stands for report:
// each outcome in the shard suite.ShardOf gives it, other-shard in the rest.
func splitShards(t *testing.T, whole *suite.Results, n int) []*reports.Report {
	t.Helper()
	var out []*reports.Report
	for i := 1; i <= n; i++ {
		part := &suite.Results{Strict: whole.Strict, Seed: whole.Seed, Shard: suite.ShardSpec{Index: i, Count: n}}
		for _, o := range whole.Outcomes {
			if k := suite.ShardOf(o.Requirement, o.Fixture, o.Shape, n); k != i {
				o = suite.Outcome{Requirement: o.Requirement, Spec: o.Spec, Fixture: o.Fixture, Shape: o.Shape, State: suite.OtherShard, Message: "run by another shard"}
			}
			part.Outcomes = append(part.Outcomes, o)
		}
		r, err := reports.New(target(), []string{"basic", "no-404"}, part)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// splitting finds a shard count that puts RENDER-1's two specs (start,
// fetch) in different shards, so that a requirement spans shards.
func splitting(t *testing.T) int {
	t.Helper()
	for n := 2; n < 20; n++ {
		if suite.ShardOf("RENDER-1", "basic", "start", n) != suite.ShardOf("RENDER-1", "basic", "fetch", n) {
			return n
		}
	}
	t.Fatal("no shard count up to 20 splits RENDER-1's specs")
	return 0
}

func sameRun(t *testing.T, want, got *reports.Report) {
	t.Helper()
	if got.Summary != want.Summary {
		t.Errorf("summary:\nmerged   %+v\nunsharded %+v", got.Summary, want.Summary)
	}
	for i := range want.Requirements {
		if !reflect.DeepEqual(want.Requirements[i], got.Requirements[i]) {
			t.Errorf("%s:\nmerged    %+v\nunsharded %+v", want.Requirements[i].ID, got.Requirements[i], want.Requirements[i])
		}
	}
	if got.Shard != nil {
		t.Errorf("the merged report still says it is shard %s", got.Shard)
	}
}

// TestMergeEqualsUnsharded: the shards' reports merge into the report of
// the whole run: the same specs, results, reasons, counts and verdict.
func TestMergeEqualsUnsharded(t *testing.T) {
	n := splitting(t)
	whole, err := reports.New(target(), []string{"basic", "no-404"}, results())
	if err != nil {
		t.Fatal(err)
	}
	shards := splitShards(t, results(), n)
	spanned := false
	for _, r := range shards {
		if r.Shard == nil || r.Shard.Count != n {
			t.Fatalf("shard report without its shard: %+v", r.Shard)
		}
		if find(t, r, "RENDER-1").Result == reports.Passed {
			for _, s := range find(t, r, "RENDER-1").Specs {
				spanned = spanned || s.Result == reports.OtherShard
			}
		}
		total := 0
		for _, c := range r.Counts() {
			total += c.N
		}
		if total != len(r.Requirements) || r.Summary.Total != len(r.Requirements) {
			t.Errorf("shard %s: counts add up to %d of %d", r.Shard, total, len(r.Requirements))
		}
	}
	if !spanned {
		t.Error("no shard passed RENDER-1 with its other spec left to another shard")
	}
	// Given in any order.
	shards[0], shards[len(shards)-1] = shards[len(shards)-1], shards[0]
	m, err := reports.Merge(shards)
	if err != nil {
		t.Fatal(err)
	}
	sameRun(t, whole, m)
	var a, b bytes.Buffer
	if err := reports.WriteMarkdown(whole, &a); err != nil {
		t.Fatal(err)
	}
	if err := reports.WriteMarkdown(m, &b); err != nil {
		t.Fatal(err)
	}
	// The same summary but the time it was generated.
	stamp := func(s string) string {
		return strings.ReplaceAll(s, m.GeneratedAt.Format(time.RFC3339), whole.GeneratedAt.Format(time.RFC3339))
	}
	if stamp(b.String()) != a.String() {
		t.Errorf("merged summary.md differs:\n%s\nunsharded:\n%s", b.String(), a.String())
	}
}

// TestShardOtherShardResult: a requirement all of whose specs another
// shard runs is other-shard in this shard's report, counted as such, and
// neither passes nor fails it.
func TestShardOtherShardResult(t *testing.T) {
	res := &suite.Results{Shard: suite.ShardSpec{Index: 1, Count: 2}, Outcomes: []suite.Outcome{
		{Requirement: "RENDER-1", Spec: "a", Fixture: "basic", Shape: "start", State: "passed"},
		{Requirement: "NOTFOUND-1", Spec: "b", Fixture: "basic", Shape: "start", State: suite.OtherShard, Message: "run by shard 2/2"},
	}}
	r, err := reports.New(target(), []string{"basic"}, res)
	if err != nil {
		t.Fatal(err)
	}
	q := find(t, r, "NOTFOUND-1")
	if q.Result != reports.OtherShard || !strings.Contains(q.Reason, "shard 2/2") {
		t.Errorf("NOTFOUND-1: %q (%q), want other-shard naming the shard", q.Result, q.Reason)
	}
	if r.Summary.OtherShard != 1 || r.Summary.Verdict != reports.VerdictPass {
		t.Errorf("summary %+v: want 1 other-shard and a pass", r.Summary)
	}
	if line := r.CountsLine(); !strings.Contains(line, "1 other shard") || !strings.Contains(line, "1 passed") {
		t.Errorf("counts line %q", line)
	}
}

// TestMergeBaseline: a shard cannot tell a baseline entry stale when
// another shard ran some of its requirement's specs; the merge applies the
// baseline again, as the unsharded run would have.
func TestMergeBaseline(t *testing.T) {
	n := splitting(t)
	b := &reports.Baseline{Schema: reports.BaselineSchema, KnownFailures: []reports.BaselineEntry{
		{ID: "NOTFOUND-1", Reason: "tracked"},
		{ID: "RENDER-1", Reason: "fixed since"},
	}}
	whole, err := reports.New(target(), []string{"basic", "no-404"}, results())
	if err != nil {
		t.Fatal(err)
	}
	whole.ApplyBaseline(b, "baseline.json")
	if len(whole.StaleBaseline()) != 1 || whole.StaleBaseline()[0].ID != "RENDER-1" || len(whole.KnownFailures()) != 1 {
		t.Fatalf("unsharded: stale %v, known %d", whole.StaleBaseline(), len(whole.KnownFailures()))
	}
	shards := splitShards(t, results(), n)
	for _, r := range shards {
		r.ApplyBaseline(b, "baseline.json")
		for _, e := range r.StaleBaseline() {
			t.Errorf("shard %s calls %s stale, but another shard ran some of its specs", r.Shard, e.ID)
		}
	}
	m, err := reports.Merge(shards)
	if err != nil {
		t.Fatal(err)
	}
	sameRun(t, whole, m)
	if !reflect.DeepEqual(m.Baseline, whole.Baseline) {
		t.Errorf("baseline: merged %+v, unsharded %+v", m.Baseline, whole.Baseline)
	}
}

// TestMergeRefuses: reports that are not the n shards of one run.
func TestMergeRefuses(t *testing.T) {
	shards := func() []*reports.Report { return splitShards(t, results(), 3) }
	whole, err := reports.New(target(), []string{"basic", "no-404"}, results())
	if err != nil {
		t.Fatal(err)
	}
	other := shards()
	other[1].Target.Name = "builtin:something-else"
	reseeded := shards()
	reseeded[2].Seed = 99
	for _, c := range []struct {
		name   string
		shards []*reports.Report
		want   string
	}{
		{"a shard missing", shards()[:2], "3/3 missing"},
		{"a shard twice", append(shards(), shards()[0]), "1/3 is given twice"},
		{"not a shard", append(shards(), whole), "is not a shard's"},
		{"another target", other, "builtin:something-else"},
		{"another seed", reseeded, "seed"},
		{"nothing", nil, "no reports"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := reports.Merge(c.shards); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one naming %q", err, c.want)
			}
		})
	}
}

// TestMergeIncompleteShard: a shard cut short (or that could not run)
// leaves specs unrun: the merged run is never a pass.
func TestMergeIncompleteShard(t *testing.T) {
	ok := &suite.Results{Outcomes: []suite.Outcome{{Requirement: "RENDER-1", Spec: "a", Fixture: "basic", Shape: "start", State: "passed"}}}
	shards := splitShards(t, ok, 2)
	shards[1].MarkIncomplete("interrupted")
	m, err := reports.Merge(shards)
	if err != nil {
		t.Fatal(err)
	}
	if m.Summary.Verdict != reports.VerdictInconclusive || !strings.Contains(m.Incomplete, "shard 2/2: interrupted") {
		t.Errorf("verdict %s, incomplete %q", m.Summary.Verdict, m.Incomplete)
	}
	notRun, err := reports.NotRunReport(target(), []string{"basic", "no-404"}, errTest("no container engine"))
	if err != nil {
		t.Fatal(err)
	}
	notRun.Shard = &suite.ShardSpec{Index: 2, Count: 2}
	m, err = reports.Merge([]*reports.Report{shards[0], notRun})
	if err != nil {
		t.Fatal(err)
	}
	if m.Summary.Verdict != reports.VerdictInconclusive || !strings.Contains(m.Incomplete, "no container engine") {
		t.Errorf("a shard that could not run: verdict %s, incomplete %q", m.Summary.Verdict, m.Incomplete)
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }

// TestCountsAgree: the one count list adds up to the requirements, names
// retired requirements retired (not "not run") and matches the summary,
// and summary.md and report.html show the counts the terminal's line does.
func TestCountsAgree(t *testing.T) {
	r := newReport(t)
	reqs, err := suite.Requirements()
	if err != nil {
		t.Fatal(err)
	}
	retired := 0
	for _, q := range reqs {
		if q.Retired() {
			retired++
		}
	}
	got := map[string]int{}
	total := 0
	for _, c := range r.Counts() {
		got[c.Result] = c.N
		total += c.N
	}
	s := r.Summary
	if total != len(r.Requirements) || retired == 0 || got[reports.Retired] != retired || got[reports.NotRun] != s.NotRun ||
		got[reports.Passed] != s.Passed || got[reports.Failed] != len(r.Failures()) || got["warning"] != s.Warnings {
		t.Errorf("counts %v (total %d), summary %+v, %d retired in SPEC.md", got, total, s, retired)
	}
	var md, page bytes.Buffer
	if err := reports.WriteMarkdown(r, &md); err != nil {
		t.Fatal(err)
	}
	if err := reports.WriteHTML(r, &page); err != nil {
		t.Fatal(err)
	}
	line := r.CountsLine()
	for _, c := range r.Counts() {
		if !c.Shown() {
			continue
		}
		if !strings.Contains(line, itoa(c.N)+" "+c.Label) {
			t.Errorf("counts line %q lacks %d %s", line, c.N, c.Label)
		}
		if row := "| " + c.Label + " | " + itoa(c.N) + " |"; !strings.Contains(md.String(), row) {
			t.Errorf("summary.md lacks %q", row)
		}
		if span := ">" + itoa(c.N) + " " + c.Label + "</span>"; !strings.Contains(page.String(), span) {
			t.Errorf("report.html lacks %q", span)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestCompare: requirements newly failing and newly passing between two
// reports, as a pull-request comment.
func TestCompare(t *testing.T) {
	old := newReport(t)
	res := results()
	for i, o := range res.Outcomes {
		switch {
		case o.Requirement == "NOTFOUND-1":
			res.Outcomes[i].State, res.Outcomes[i].Message = "passed", ""
		case o.Requirement == "RENDER-1" && o.Shape == "fetch":
			res.Outcomes[i].State, res.Outcomes[i].Message = "failed", "RENDER-1: expected: the page's markers"
		}
	}
	new, err := reports.New(target(), []string{"basic", "no-404"}, res)
	if err != nil {
		t.Fatal(err)
	}
	d := reports.Compare(old, new)
	ids := func(cs []reports.Change) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	if got := ids(d.NewlyFailing); !reflect.DeepEqual(got, []string{"RENDER-1"}) {
		t.Errorf("newly failing %v, want [RENDER-1]", got)
	}
	if got := ids(d.NewlyPassing); !reflect.DeepEqual(got, []string{"NOTFOUND-1"}) {
		t.Errorf("newly passing %v, want [NOTFOUND-1]", got)
	}
	var buf bytes.Buffer
	if err := d.WriteMarkdown(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	fail, pass := strings.Index(out, "### Newly failing"), strings.Index(out, "### Newly passing")
	if fail < 0 || pass < fail {
		t.Fatalf("want newly failing, then newly passing:\n%s", out)
	}
	for _, want := range []string{"| RENDER-1 | MUST | passed | failed |", "expected: the page's markers", "--focus RENDER-1", "| NOTFOUND-1 | MUST | failed |", "1 newly failing, 1 newly passing"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out[fail:pass], "NOTFOUND-1") || strings.Contains(out, "HTTP-19") {
		t.Errorf("a requirement that did not change, or got better, is listed as newly failing:\n%s", out)
	}
	buf.Reset()
	if err := reports.Compare(old, old).WriteMarkdown(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "No requirement changed its result") {
		t.Errorf("a report compared with itself:\n%s", buf.String())
	}
}
