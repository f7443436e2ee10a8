package reports_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/fixtures"
	"github.com/adapterconformance/adapter-conformance/reports"
	"github.com/adapterconformance/adapter-conformance/suite"
)

const hostile = "GET /nope HTTP/1.1\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<script>alert(1)</script>\x00\x01\x08 bin \xff\xfe end"

// results covers each aggregation rule with requirements of SPEC.md.
func results() *suite.Results {
	return &suite.Results{Outcomes: []suite.Outcome{
		// RENDER-1: passed on two shapes.
		{Requirement: "RENDER-1", Spec: "RENDER-1 on start", Fixture: "basic", Shape: "start", State: "passed", Duration: 12 * time.Millisecond},
		{Requirement: "RENDER-1", Spec: "RENDER-1 on fetch", Fixture: "basic", Shape: "fetch", State: "passed", Duration: 3 * time.Millisecond},
		// NOTFOUND-1: failed on fetch, passed on start: failed wins.
		{Requirement: "NOTFOUND-1", Spec: "NOTFOUND-1 on start", Fixture: "basic", Shape: "start", State: "passed"},
		{Requirement: "NOTFOUND-1", Spec: "NOTFOUND-1 on fetch", Fixture: "basic", Shape: "fetch", State: "failed",
			Message:   "NOTFOUND-1: GET /nope: expected status 404, got 200\n<script>alert('msg')</script>",
			Exchanges: []string{hostile}, Logs: "adapter log <script>x</script>\x00", Duration: 7 * time.Millisecond},
		// HTTP-19 (a SHOULD): failed.
		{Requirement: "HTTP-19", Spec: "HTTP-19 on start", Fixture: "basic", Shape: "start", State: "failed", Message: "HTTP-19: got Content-Encoding: gzip"},
		// DECL-5: skipped, with a not-applicable beside it: skipped wins.
		{Requirement: "DECL-5", Spec: "DECL-5", Fixture: "basic", State: "skipped", Message: "cannot be checked: CreateExports failed (see DECL-6)"},
		{Requirement: "DECL-5", Spec: "DECL-5 other", Fixture: "no-404", State: "not-applicable", Message: "not applicable: the adapter has no CreateExports"},
		// START-6: not applicable only.
		{Requirement: "START-6", Spec: "START-6", Fixture: "basic", Shape: "start", State: "not-applicable", Message: "not applicable: START-6 does not apply in inprocess mode"},
		// RENDER-3: a pass next to a skip: passed.
		{Requirement: "RENDER-3", Spec: "RENDER-3 on start", Fixture: "basic", Shape: "start", State: "passed"},
		{Requirement: "RENDER-3", Spec: "RENDER-3 on fetch", Fixture: "basic", Shape: "fetch", State: "skipped", Message: "cannot be checked"},
	}}
}

func target() reports.Target {
	return reports.Target{
		Name: "builtin:good standalone", Mode: "inprocess",
		Declaration: &app.Adapter{Name: "standalone", Exports: []string{"handler"}, Shapes: []app.HostShape{app.ShapeStart, app.ShapeFetch}},
	}
}

func newReport(t *testing.T) *reports.Report {
	t.Helper()
	r, err := reports.New(target(), []string{"basic", "no-404"}, results())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func find(t *testing.T, r *reports.Report, id string) reports.Requirement {
	t.Helper()
	for _, q := range r.Requirements {
		if q.ID == id {
			return q
		}
	}
	t.Fatalf("requirement %s missing from the report", id)
	return reports.Requirement{}
}

func TestAggregation(t *testing.T) {
	r := newReport(t)
	want := map[string]string{
		"RENDER-1":   reports.Passed,
		"NOTFOUND-1": reports.Failed,
		"HTTP-19":    reports.Failed,
		"DECL-5":     reports.Skipped,
		"START-6":    reports.NotApplicable,
		"RENDER-3":   reports.Passed,
		"DECL-1":     reports.NotRun,  // checked, but nothing ran
		"PROC-3":     reports.Retired, // retired: counted as such, not as not run
	}
	for id, res := range want {
		if got := find(t, r, id).Result; got != res {
			t.Errorf("%s: result %q, want %q", id, got, res)
		}
	}
	if q := find(t, r, "DECL-5"); !strings.Contains(q.Reason, "CreateExports failed") || strings.Contains(q.Reason, "has no CreateExports") {
		t.Errorf("DECL-5 reason %q: want the skip reasons, not the not-applicable ones", q.Reason)
	}
	// Whichever requirements are still planned when this runs.
	reqs, err := suite.Requirements()
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range reqs {
		if !strings.HasPrefix(req.Status, "planned #") {
			continue
		}
		if q := find(t, r, req.ID); q.Result != reports.NotRun || !strings.Contains(q.Reason, req.Status) {
			t.Errorf("%s: result %q, reason %q: want not-run naming %q", req.ID, q.Result, q.Reason, req.Status)
		}
	}
	if q := find(t, r, "START-6"); q.Reason == "" {
		t.Error("START-6: not applicable without a reason")
	}
	nf := find(t, r, "NOTFOUND-1")
	if got := nf.ShapeResult("fetch"); got != reports.Failed {
		t.Errorf("NOTFOUND-1 on fetch: %q", got)
	}
	if got := nf.ShapeResult("start"); got != reports.Passed {
		t.Errorf("NOTFOUND-1 on start: %q", got)
	}
	if got := nf.ShapeResult("handler"); got != "" {
		t.Errorf("NOTFOUND-1 on handler: %q, want none", got)
	}
	if got := r.Shapes(); !reflect.DeepEqual(got, []string{"start", "fetch"}) {
		t.Errorf("shapes %v", got)
	}
}

func TestRequirementsFollowSpec(t *testing.T) {
	r := newReport(t)
	reqs, err := suite.Requirements()
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Requirements) != len(reqs) {
		t.Fatalf("%d requirements in the report, %d in SPEC.md", len(r.Requirements), len(reqs))
	}
	for i, q := range reqs {
		if got := r.Requirements[i]; got.ID != q.ID || got.Level != q.Level || got.Status != q.Status || got.Text != q.Text {
			t.Fatalf("requirement %d: %s %s %s, want %s %s %s", i, got.ID, got.Level, got.Status, q.ID, q.Level, q.Status)
		}
	}
}

func TestSummaryAndVerdict(t *testing.T) {
	r := newReport(t)
	s := r.Summary
	if s.Verdict != reports.VerdictFail {
		t.Errorf("verdict %q", s.Verdict)
	}
	if s.Failed != 2 || s.MustFailed != 1 || s.ShouldFailed != 1 || s.Warnings != 1 || s.Strict {
		t.Errorf("failed %d, MUST %d, SHOULD %d, warnings %d, strict %v; want 2, 1, 1, 1, false", s.Failed, s.MustFailed, s.ShouldFailed, s.Warnings, s.Strict)
	}
	if s.Passed != 2 || s.Skipped != 1 || s.NotApplicable != 1 {
		t.Errorf("passed %d, skipped %d, n/a %d; want 2, 1, 1", s.Passed, s.Skipped, s.NotApplicable)
	}
	if s.Passed+s.Failed+s.Skipped+s.NotApplicable+s.NotRun+s.OtherShard+s.Retired != s.Total || s.Total != len(r.Requirements) || s.Retired == 0 {
		t.Errorf("counts do not add up: %+v", s)
	}

	// A SHOULD failure alone is a warning (SPEC.md): the verdict passes,
	// and Warnings counts it; a strict run fails on it.
	only := &suite.Results{Outcomes: []suite.Outcome{
		{Requirement: "HTTP-19", Spec: "x", State: "failed"},
		{Requirement: "RENDER-1", Spec: "y", State: "passed"},
	}}
	r2, err := reports.New(target(), nil, only)
	if err != nil {
		t.Fatal(err)
	}
	if s := r2.Summary; s.Verdict != reports.VerdictPass || s.MustFailed != 0 || s.ShouldFailed != 1 || s.Warnings != 1 {
		t.Errorf("SHOULD failure: %+v, want a pass with 1 warning", s)
	}
	if len(r2.Failures()) != 0 || len(r2.Warnings()) != 1 || r2.DisplayResult(r2.Warnings()[0]) != "warning" {
		t.Errorf("SHOULD failure: failures %d, warnings %d", len(r2.Failures()), len(r2.Warnings()))
	}
	only.Strict = true
	r2, err = reports.New(target(), nil, only)
	if err != nil {
		t.Fatal(err)
	}
	if s := r2.Summary; s.Verdict != reports.VerdictFail || s.ShouldFailed != 1 || s.Warnings != 0 || !s.Strict {
		t.Errorf("SHOULD failure in a strict run: %+v, want a fail", s)
	}
	if len(r2.Failures()) != 1 || len(r2.Warnings()) != 0 {
		t.Errorf("SHOULD failure in a strict run: failures %d, warnings %d", len(r2.Failures()), len(r2.Warnings()))
	}

	// Nothing failed: pass, even with skips and requirements not run.
	ok := &suite.Results{Outcomes: []suite.Outcome{
		{Requirement: "RENDER-1", Spec: "x", State: "passed"},
		{Requirement: "DECL-5", Spec: "y", State: "skipped", Message: "why"},
	}}
	r3, err := reports.New(target(), nil, ok)
	if err != nil {
		t.Fatal(err)
	}
	if r3.Summary.Verdict != reports.VerdictPass {
		t.Errorf("verdict %q, want pass", r3.Summary.Verdict)
	}
}

func TestNewRejectsUnknownRequirementAndState(t *testing.T) {
	if _, err := reports.New(target(), nil, &suite.Results{Outcomes: []suite.Outcome{{Requirement: "NOPE-1", State: "passed"}}}); err == nil || !strings.Contains(err.Error(), "NOPE-1") {
		t.Errorf("unknown requirement: %v", err)
	}
	if _, err := reports.New(target(), nil, &suite.Results{Outcomes: []suite.Outcome{{Requirement: "RENDER-1", State: "weird"}}}); err == nil || !strings.Contains(err.Error(), "weird") {
		t.Errorf("unknown state: %v", err)
	}
	r, err := reports.New(reports.Target{Name: "x", Mode: "url", DeclarationError: "no declaration over HTTP"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.NotRun+r.Summary.Retired != r.Summary.Total || r.Summary.Verdict != reports.VerdictInconclusive {
		t.Errorf("empty run: %+v", r.Summary)
	}
}

// TestNothingCheckedIsInconclusive: skips and not-applicables alone are no
// pass; a CI job that checked nothing must not read green.
func TestNothingCheckedIsInconclusive(t *testing.T) {
	r, err := reports.New(target(), nil, &suite.Results{Outcomes: []suite.Outcome{
		{Requirement: "DECL-5", Spec: "y", State: "skipped", Message: "why"},
		{Requirement: "START-6", Spec: "z", State: "not-applicable", Message: "not in this mode"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Verdict != reports.VerdictInconclusive {
		t.Errorf("verdict %q, want %q", r.Summary.Verdict, reports.VerdictInconclusive)
	}
	var buf bytes.Buffer
	if err := reports.WriteMarkdown(r, &buf); err != nil {
		t.Fatal(err)
	}
	if md := buf.String(); !strings.Contains(md, "INCONCLUSIVE") || strings.Contains(md, "passed for target") {
		t.Errorf("summary:\n%s", md)
	}
}

// TestIncompleteRunIsNotAPass: a run cut short (an interrupt, --timeout)
// with only passes so far is inconclusive, and every format says why.
func TestIncompleteRunIsNotAPass(t *testing.T) {
	why := "the run's time limit (30s for the specs) ran out before every spec had run; give it more time"
	r, err := reports.New(target(), []string{"basic"}, &suite.Results{CutShort: why, Outcomes: []suite.Outcome{
		{Requirement: "RENDER-1", Spec: "x", State: "passed"},
		{Requirement: "RENDER-2", Spec: "y", State: "skipped", Message: "not run: " + why},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Verdict != reports.VerdictInconclusive || r.Incomplete != why {
		t.Errorf("verdict %q, incomplete %q", r.Summary.Verdict, r.Incomplete)
	}
	dir := t.TempDir()
	if err := r.WriteAll(dir); err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(filepath.Join(dir, reports.MarkdownFile))
	if !strings.Contains(string(md), "The run did not finish") || strings.Contains(string(md), "every requirement that ran passed") {
		t.Errorf("summary.md does not say the run was cut short:\n%s", md)
	}
	junit, _ := os.ReadFile(filepath.Join(dir, reports.JUnitFile))
	if !strings.Contains(string(junit), `name="finish the run"`) || !strings.Contains(string(junit), "give it more time") {
		t.Errorf("junit.xml has no errored testcase for the cut:\n%.2000s", junit)
	}
	html, _ := os.ReadFile(filepath.Join(dir, reports.HTMLFile))
	if !strings.Contains(string(html), "Run incomplete") {
		t.Error("report.html does not say the run was cut short")
	}
	back, err := reports.Read(filepath.Join(dir, reports.JSONFile))
	if err != nil || back.Incomplete != why {
		t.Errorf("incomplete lost in the JSON: %v %q", err, back.Incomplete)
	}

	// A failure found before the cut still fails the run.
	r, err = reports.New(target(), []string{"basic"}, &suite.Results{CutShort: why, Outcomes: []suite.Outcome{
		{Requirement: "RENDER-1", Spec: "x", State: "failed", Message: "boom"},
	}})
	if err != nil || r.Summary.Verdict != reports.VerdictFail {
		t.Errorf("a failure before the cut: verdict %q, err %v", r.Summary.Verdict, err)
	}
}

// TestNotRunReport: a run that could not happen still gives every format,
// each naming the cause, with captured text kept inert.
func TestNotRunReport(t *testing.T) {
	runErr := errors.New("building ./cmd/adapter: exit status 1\n```\n" + hostile + "\n./main.go:3:15: undefined: undefined\n")
	r, err := reports.NotRunReport(reports.Target{Name: "./cmd/adapter", Mode: "binary"}, []string{"basic"}, runErr)
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Verdict != reports.VerdictInconclusive || r.Summary.NotRun+r.Summary.Retired != r.Summary.Total {
		t.Errorf("summary %+v", r.Summary)
	}
	if q := find(t, r, "RENDER-1"); !strings.Contains(q.Reason, "could not run the target: building ./cmd/adapter") {
		t.Errorf("RENDER-1 reason %q", q.Reason)
	}
	dir := t.TempDir()
	if err := r.WriteAll(dir); err != nil {
		t.Fatal(err)
	}
	back, err := reports.Read(filepath.Join(dir, reports.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(back.RunError, "undefined: undefined") {
		t.Errorf("runError lost in the JSON: %q", back.RunError)
	}

	var junit struct {
		Errors int `xml:"errors,attr"`
		Suites []struct {
			Cases []struct {
				Name  string `xml:"name,attr"`
				Error *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"error"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	data, _ := os.ReadFile(filepath.Join(dir, reports.JUnitFile))
	if err := xml.Unmarshal(data, &junit); err != nil {
		t.Fatalf("junit.xml does not parse: %v", err)
	}
	if junit.Errors != 1 || len(junit.Suites) == 0 || len(junit.Suites[0].Cases) != 1 || junit.Suites[0].Cases[0].Error == nil ||
		!strings.Contains(junit.Suites[0].Cases[0].Error.Text, "undefined: undefined") {
		t.Errorf("junit.xml has no errored run testcase naming the cause:\n%.2000s", data)
	}

	md, _ := os.ReadFile(filepath.Join(dir, reports.MarkdownFile))
	if !strings.Contains(string(md), "    ./main.go:3:15: undefined: undefined") {
		t.Errorf("summary.md lacks the build log as a code block:\n%s", md)
	}
	// Every line of the cause stays inside the indented block: none can
	// close it and let the captured HTML render.
	for l := range strings.SplitSeq(string(md), "\n") {
		if strings.Contains(l, "<script") && !strings.HasPrefix(l, "    ") {
			t.Errorf("captured HTML outside the code block: %q", l)
		}
	}
	html, _ := os.ReadFile(filepath.Join(dir, reports.HTMLFile))
	if !strings.Contains(string(html), "Run error") || !strings.Contains(string(html), "undefined: undefined") || strings.Contains(string(html), "<script>alert") {
		t.Errorf("report.html does not show the run error safely")
	}
}

func TestJSONRoundTrip(t *testing.T) {
	r := newReport(t)
	dir := t.TempDir()
	if err := r.WriteAll(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{reports.JSONFile, reports.JUnitFile, reports.HTMLFile, reports.MarkdownFile} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	path := filepath.Join(dir, reports.JSONFile)
	back, err := reports.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r, back) {
		a, _ := json.Marshal(r)
		b, _ := json.Marshal(back)
		t.Fatalf("round trip changed the report:\n%s\n%s", a, b)
	}
	if nf := find(t, back, "NOTFOUND-1"); nf.Specs[len(nf.Specs)-1].Exchanges[0] != strings.ReplaceAll(hostile, "\xff\xfe", `\xff\xfe`) {
		t.Errorf("exchange did not survive: %q", nf.Specs[len(nf.Specs)-1].Exchanges[0])
	}

	// The field names are the schema: check them on the raw document.
	var raw map[string]any
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema", "kitVersion", "generatedAt", "target", "fixtures", "summary", "requirements"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("JSON has no %q", k)
		}
	}
	if raw["schema"] != reports.Schema {
		t.Errorf("schema %v", raw["schema"])
	}
	if _, err := time.Parse(time.RFC3339, raw["generatedAt"].(string)); err != nil {
		t.Errorf("generatedAt: %v", err)
	}
	tg := raw["target"].(map[string]any)
	if tg["declaration"].(map[string]any)["name"] != "standalone" {
		t.Errorf("target %v", tg)
	}
	spec := raw["requirements"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "area", "level", "status", "text", "source", "result", "specs"} {
		if _, ok := spec[k]; !ok {
			t.Errorf("requirement JSON has no %q", k)
		}
	}
	sum := raw["summary"].(map[string]any)
	for _, k := range []string{"verdict", "passed", "failed", "skipped", "not-applicable", "not-run", "mustFailed"} {
		if _, ok := sum[k]; !ok {
			t.Errorf("summary JSON has no %q", k)
		}
	}
}

func TestReadRejectsOtherSchemas(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"v2.json":        `{"schema": "adapter-conformance/report/v2", "requirements": []}`,
		"ginkgo.json":    `[{"SuitePath": "x"}]`,
		"noschema.json":  `{"kitVersion": "1"}`,
		"truncated.json": `{"schema": "adapter-conformance/report/v1", "requ`,
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := reports.Read(path)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error does not name the file: %v", name, err)
		}
		if name == "v2.json" && !strings.Contains(err.Error(), "adapter-conformance/report/v2") {
			t.Errorf("error does not name the schema: %v", err)
		}
	}
	if _, err := reports.Read(filepath.Join(dir, "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

type junitDoc struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Skipped  int `xml:"skipped,attr"`
	Suites   []struct {
		Name       string `xml:"name,attr"`
		Properties []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			Name      string `xml:"name,attr"`
			SystemOut string `xml:"system-out"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestJUnit(t *testing.T) {
	r := newReport(t)
	var buf bytes.Buffer
	if err := reports.WriteJUnit(r, &buf); err != nil {
		t.Fatal(err)
	}
	// A strict tokenizer pass: encoding/xml rejects characters XML 1.0 forbids.
	dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("JUnit is not valid XML: %v", err)
		}
	}
	if bytes.ContainsAny(buf.Bytes(), "\x00\x01\x08") {
		t.Error("JUnit holds control characters")
	}
	var doc junitDoc
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	s := r.Summary
	// JUnit failures are what fails the verdict: the SHOULD that only
	// warns is not one.
	if doc.Tests != s.Total || doc.Failures != s.Failed-s.Warnings || doc.Skipped != s.Skipped+s.NotApplicable+s.NotRun+s.Retired {
		t.Errorf("testsuites counts tests=%d failures=%d skipped=%d, summary %+v", doc.Tests, doc.Failures, doc.Skipped, s)
	}
	failures, skips, cases := 0, 0, 0
	areas := map[string]bool{}
	for _, q := range r.Requirements {
		areas[q.Area] = true
	}
	if len(doc.Suites) != len(areas) {
		t.Errorf("%d testsuites for %d areas", len(doc.Suites), len(areas))
	}
	for _, su := range doc.Suites {
		props := map[string]string{}
		for _, p := range su.Properties {
			props[p.Name] = p.Value
		}
		if props["kitVersion"] == "" || props["target"] != "builtin:good standalone" || props["mode"] != "inprocess" {
			t.Errorf("suite %s properties %v", su.Name, props)
		}
		for _, c := range su.Cases {
			cases++
			if c.Failure != nil {
				failures++
				if strings.HasPrefix(c.Name, "NOTFOUND-1: ") {
					if !strings.Contains(c.Failure.Message, "expected status 404, got 200") {
						t.Errorf("failure message %q", c.Failure.Message)
					}
					for _, want := range []string{"<script>alert(1)</script>", `\x00\x01\x08`, `\xff\xfe`, "adapter log", "--focus NOTFOUND-1"} {
						if !strings.Contains(c.Failure.Text, want) {
							t.Errorf("failure text lacks %q:\n%s", want, c.Failure.Text)
						}
					}
				}
			}
			if strings.HasPrefix(c.Name, "HTTP-19: ") {
				if c.Failure != nil || !strings.HasPrefix(c.SystemOut, "WARNING: SHOULD HTTP-19 failed") || !strings.Contains(c.SystemOut, "got Content-Encoding: gzip") {
					t.Errorf("the failed SHOULD HTTP-19: failure %v, system-out %q; want a warning in system-out", c.Failure, c.SystemOut)
				}
				if props["warnings"] != "1" {
					t.Errorf("warnings property %q", props["warnings"])
				}
			}
			if c.Skipped != nil {
				skips++
				if c.Skipped.Message == "" {
					t.Errorf("%s: skipped without a reason", c.Name)
				}
			}
		}
	}
	if cases != len(r.Requirements) || failures != 1 || skips != s.Skipped+s.NotApplicable+s.NotRun+s.Retired {
		t.Errorf("cases %d failures %d skips %d", cases, failures, skips)
	}
}

func TestHTMLEscapesCapturedData(t *testing.T) {
	r := newReport(t)
	r.Target.DeclarationError = "<script>decl()</script>"
	var buf bytes.Buffer
	if err := reports.WriteHTML(r, &buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if n := strings.Count(strings.ToLower(page), "<script"); n != 0 {
		t.Errorf("page has %d <script tags: captured data is not escaped", n)
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the exchange is missing from the page")
	}
	// The second wall, after escaping: a CSP that forbids scripts (the
	// browser test shows Chromium enforcing it).
	if !strings.Contains(page, `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'none';`) {
		t.Error("page has no Content-Security-Policy forbidding scripts")
	}
	for _, bad := range []string{"\x00", "\x01", "<link", "@import", "src=\"http", "href=\"http"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	for _, q := range r.Failures() {
		if !strings.Contains(page, `id="`+q.ID+`"`) {
			t.Errorf("failed requirement %s has no section", q.ID)
		}
	}
	for _, q := range r.Warnings() {
		if !strings.Contains(page, `<section class="failure warn" id="`+q.ID+`"`) {
			t.Errorf("warning %s has no section", q.ID)
		}
	}
	for _, want := range []string{"builtin:good standalone", "inprocess", r.KitVersion, ">fail<", "<details", "with 1 warning(s)", "Warnings: failed SHOULD requirements", `<td class="r warning">warning</td>`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// TestRerunCommandRunsTheSameWay: the rerun names what the run was given
// beyond the default (fixtures, container mode), or it would rerun
// something else.
func TestRerunCommandRunsTheSameWay(t *testing.T) {
	for _, c := range []struct {
		mode     string
		fixtures []string
		want     string
	}{
		{"binary", fixtures.DefaultOrder(), "adapter-conformance run --target './my adapter' --focus RENDER-1"},
		{"container", fixtures.DefaultOrder(), "adapter-conformance run --target './my adapter' --mode container --focus RENDER-1"},
		{"binary", []string{"base-app", "./my fixture"}, "adapter-conformance run --target './my adapter' --fixture base-app --fixture './my fixture' --focus RENDER-1"},
	} {
		r, err := reports.New(reports.Target{Name: "./my adapter", Mode: c.mode}, c.fixtures, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.RerunCommand("RENDER-1"); got != c.want {
			t.Errorf("%s %v:\n got %s\nwant %s", c.mode, c.fixtures, got, c.want)
		}
	}
}

// TestRerunCommandKeepsTheSeed: a run with another differential seed than
// the default is rerun with it, so the same corpus comes back.
func TestRerunCommandKeepsTheSeed(t *testing.T) {
	for _, c := range []struct {
		seed uint64
		want string
	}{
		{7, "adapter-conformance run --target './my adapter' --seed 7 --focus DIFF-2"},
		{suite.DefaultSeed, "adapter-conformance run --target './my adapter' --focus DIFF-2"},
	} {
		r, err := reports.New(reports.Target{Name: "./my adapter", Mode: "binary"}, fixtures.DefaultOrder(), &suite.Results{Seed: c.seed})
		if err != nil {
			t.Fatal(err)
		}
		if r.Seed != c.seed {
			t.Errorf("report seed %d, want %d", r.Seed, c.seed)
		}
		if got := r.RerunCommand("DIFF-2"); got != c.want {
			t.Errorf("seed %d:\n got %s\nwant %s", c.seed, got, c.want)
		}
	}
}

func TestMarkdown(t *testing.T) {
	r := newReport(t)
	var buf bytes.Buffer
	if err := reports.WriteMarkdown(r, &buf); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{
		"FAIL",
		"adapter-conformance run --target 'builtin:good standalone' --fixture basic --fixture no-404 --focus NOTFOUND-1",
		"adapter-conformance run --target 'builtin:good standalone' --fixture basic --fixture no-404 --focus HTTP-19",
		"| NOTFOUND-1 | MUST |",
		"| HTTP-19 | SHOULD |",
		"# adapter-conformance: FAIL with 1 warning(s)",
		"1 requirement(s) failed (1 MUST, 0 SHOULD)",
		"## Warnings: failed SHOULD requirements",
		"| warnings (failed SHOULD) | 1 |",
		"expected status 404, got 200",
		"| DECL-5 |",
		"CreateExports failed",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "<script") {
		t.Error("summary carries raw HTML from a message")
	}
	if strings.Contains(md, "--focus RENDER-1") {
		t.Error("summary offers to rerun a passed requirement")
	}
}
