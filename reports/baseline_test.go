package reports_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/adapterconformance/adapter-conformance/reports"
)

func baselineFile(t *testing.T, entries string) (string, *reports.Baseline) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "baseline.json")
	if err := os.WriteFile(path, []byte(`{"schema":"`+reports.BaselineSchema+`","knownFailures":[`+entries+`]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := reports.ReadBaseline(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, b
}

// In results(), NOTFOUND-1 fails on fetch (passes on start), HTTP-19 (a
// SHOULD) fails on start, RENDER-1 passes on start and fetch.
func TestBaselineRules(t *testing.T) {
	for _, c := range []struct {
		name, entries       string
		verdict             string
		known, stale        int
		knownIDs, failedIDs string
	}{
		{"no entry", ``, reports.VerdictFail, 0, 0, "", "NOTFOUND-1"},
		{"known on every shape", `{"id":"NOTFOUND-1","reason":"r"}`, reports.VerdictPass, 1, 0, "NOTFOUND-1", ""},
		{"known on its shape", `{"id":"NOTFOUND-1","shape":"fetch","reason":"r"}`, reports.VerdictPass, 1, 0, "NOTFOUND-1", ""},
		{"another shape is a new failure", `{"id":"NOTFOUND-1","shape":"start","reason":"r"}`, reports.VerdictFail, 0, 1, "", "NOTFOUND-1"},
		{"a passing requirement is stale", `{"id":"NOTFOUND-1","reason":"r"},{"id":"RENDER-1","reason":"fixed"}`, reports.VerdictFail, 1, 1, "NOTFOUND-1", ""},
		{"one that did not run is not stale", `{"id":"NOTFOUND-1","reason":"r"},{"id":"HTTP-10","reason":"r"}`, reports.VerdictPass, 1, 0, "NOTFOUND-1", ""},
		{"a warning stays a warning", `{"id":"NOTFOUND-1","reason":"r"},{"id":"HTTP-19","reason":"r"}`, reports.VerdictPass, 1, 0, "NOTFOUND-1", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newReport(t)
			path, b := baselineFile(t, c.entries)
			r.ApplyBaseline(b, path)
			s := r.Summary
			if s.Verdict != c.verdict || s.KnownFailures != c.known || s.StaleBaseline != c.stale || s.Warnings != 1 {
				t.Errorf("summary %+v, want verdict %s, %d known, %d stale, 1 warning", s, c.verdict, c.known, c.stale)
			}
			ids := func(qs []reports.Requirement) string {
				var out []string
				for _, q := range qs {
					out = append(out, q.ID)
				}
				return strings.Join(out, ",")
			}
			if got := ids(r.KnownFailures()); got != c.knownIDs {
				t.Errorf("known failures %q, want %q", got, c.knownIDs)
			}
			if got := ids(r.Failures()); got != c.failedIDs {
				t.Errorf("failures %q, want %q", got, c.failedIDs)
			}
			var junit strings.Builder
			if err := reports.WriteJUnit(r, &junit); err != nil {
				t.Fatal(err)
			}
			if got := strings.Count(junit.String(), `type="stale baseline"`); got != c.stale {
				t.Errorf("junit.xml has %d stale-baseline failures, want %d", got, c.stale)
			}
			// A run cut short keeps its stale entries (and is never a pass).
			r.MarkIncomplete("interrupted")
			if r.Summary.StaleBaseline != c.stale || r.Summary.Verdict == reports.VerdictPass {
				t.Errorf("after MarkIncomplete: %+v", r.Summary)
			}
		})
	}
}

func TestWriteBaselineRoundTrips(t *testing.T) {
	r := newReport(t)
	path := filepath.Join(t.TempDir(), "b.json")
	if err := r.WriteBaseline(path); err != nil {
		t.Fatal(err)
	}
	b, err := reports.ReadBaseline(path)
	if err != nil {
		t.Fatal(err)
	}
	// The SHOULD that only warns is not written; NOTFOUND-1 is, on fetch.
	if len(b.KnownFailures) != 1 || b.KnownFailures[0].ID != "NOTFOUND-1" || b.KnownFailures[0].Shape != "fetch" {
		t.Fatalf("baseline %+v", b.KnownFailures)
	}
	r.ApplyBaseline(b, path)
	if r.Summary.Verdict != reports.VerdictPass {
		t.Errorf("verdict %s with the report's own baseline", r.Summary.Verdict)
	}
}

func TestReadBaselineRejectsTypos(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"unknown id":     `{"schema":"` + reports.BaselineSchema + `","knownFailures":[{"id":"HTTP-999","reason":"r"}]}`,
		"no reason":      `{"schema":"` + reports.BaselineSchema + `","knownFailures":[{"id":"HTTP-10"}]}`,
		"unknown shape":  `{"schema":"` + reports.BaselineSchema + `","knownFailures":[{"id":"HTTP-10","shape":"lambda","reason":"r"}]}`,
		"unknown field":  `{"schema":"` + reports.BaselineSchema + `","knownFailures":[{"id":"HTTP-10","reasn":"r"}]}`,
		"another schema": `{"schema":"x","knownFailures":[]}`,
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
		os.WriteFile(path, []byte(text), 0o644)
		if _, err := reports.ReadBaseline(path); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
