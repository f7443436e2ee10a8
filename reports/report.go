// Package reports turns the outcomes of a conformance run into documents that
// outlive it.
//
// The JSON Report is the source of truth: it is versioned, it is what CI
// archives, and every other format (JUnit XML for CI dashboards, one HTML page
// for people, a Markdown summary for pull-request comments and job summaries)
// is derived from a *Report alone. That way a report read back with Read
// renders exactly as it did when it was written, and no format can say
// something the JSON does not.
//
// The report is organised by requirement rather than by spec, because the
// requirement ID is what an adapter author acts on: it is stable across kit
// versions, it names the rule in SPEC.md, and it is what --focus reruns.
package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	adapterconformance "github.com/adapterconformance/adapter-conformance"
	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/suite"
)

// Schema identifies the layout of the JSON report. Consumers check it before
// trusting any other field; it changes only when a field changes meaning or
// goes away (adding a field keeps v1).
const Schema = "adapter-conformance/report/v1"

// Results of a requirement or of one spec. The first four are the suite's
// spec states, and OtherShard too: a spec a sharded run (--shard,
// suite.Shard) left to another shard, and a requirement all of whose specs
// it left to others. NotRun and Retired exist only for requirements, so
// that the report can list every requirement of SPEC.md: NotRun for one
// that nothing checked (left out by --focus or a label filter, or planned),
// Retired for one SPEC.md keeps only for its ID.
// The spec states are the suite's typed ones (suite.State), written as
// the report's strings.
const (
	Passed        = string(suite.Passed)
	Failed        = string(suite.Failed)
	Skipped       = string(suite.Skipped)
	NotApplicable = string(suite.NotApplicable)
	OtherShard    = string(suite.OtherShard)
	NotRun        = "not-run"
	Retired       = "retired"
)

// Verdicts. As SPEC.md says, an adapter that breaks a MUST fails and one
// that breaks a SHOULD gets a warning: a failed SHOULD leaves the verdict
// pass, and Summary.Warnings counts it (every format shows it). A strict
// run (Summary.Strict: --strict, suite.Strict()) fails on SHOULDs too.
//
// VerdictInconclusive is neither: no requirement failed, and either none
// passed, because the kit could not run the target (RunError says why) or
// the filters left nothing that applies, or the run was cut short before
// every spec had run (Incomplete says why). Reporting that as a pass would
// let a CI job that checked nothing, or not everything, go green (the CLI
// exits 2 for it).
const (
	VerdictPass         = "pass"
	VerdictFail         = "fail"
	VerdictInconclusive = "inconclusive"
)

// resultRank orders results for aggregation: the lowest rank present wins.
var resultRank = map[string]int{Failed: 0, Passed: 1, Skipped: 2, NotApplicable: 3, OtherShard: 4, NotRun: 5}

// Report is the JSON document. Field order is the order readers see.
type Report struct {
	Schema      string    `json:"schema"`
	KitVersion  string    `json:"kitVersion"`
	GeneratedAt time.Time `json:"generatedAt"`
	Target      Target    `json:"target"`
	Fixtures    []string  `json:"fixtures"`
	// Seed is the differential corpus's seed (DIFF-1..5), 0 when unknown.
	Seed uint64 `json:"seed,omitempty"`
	// Shard is set on the report of one shard of a run (--shard i/n): its
	// other shards' specs are "other-shard", and "report merge" puts the
	// shards' reports together into the run's.
	Shard *suite.ShardSpec `json:"shard,omitempty"`
	// Command is how the kit was started ("adapter-conformance", "go run
	// ./cmd/adapter-conformance"), the start of every rerun command;
	// "" for adapter-conformance.
	Command string `json:"command,omitempty"`
	// RunError says why the kit could not run the target at all (a build
	// that failed, a fixture that cannot be loaded, no container engine);
	// every requirement is then not-run and the verdict inconclusive.
	RunError string `json:"runError,omitempty"`
	// Baseline is set when the run had a baseline of known failures
	// (baseline.go): its file and its stale entries.
	Baseline *BaselineResult `json:"baseline,omitempty"`
	// Incomplete says why the run ended before every spec had run (an
	// interrupt, the run's timeout). What ran before is reported as it
	// came out; the specs it stopped or never reached are skipped, and the
	// verdict is never pass.
	Incomplete   string        `json:"incomplete,omitempty"`
	Summary      Summary       `json:"summary"`
	Requirements []Requirement `json:"requirements"`
}

// Target is what was tested. The declaration is kept whole (not just its
// name) because a wrong declaration explains many failures at once; when it
// could not be had, DeclarationError says why instead.
type Target struct {
	Name             string       `json:"name"`
	Mode             string       `json:"mode"`
	Declaration      *app.Adapter `json:"declaration"`
	DeclarationError string       `json:"declarationError"`
}

// Summary counts requirements, not specs: one requirement checked on three
// shapes and two fixtures is still one thing to fix.
type Summary struct {
	Verdict       string `json:"verdict"`
	Total         int    `json:"total"`
	Passed        int    `json:"passed"`
	Failed        int    `json:"failed"`
	Skipped       int    `json:"skipped"`
	NotApplicable int    `json:"not-applicable"`
	NotRun        int    `json:"not-run"`
	// OtherShard counts the requirements a shard left wholly to other
	// shards, Retired those SPEC.md keeps only for their ID.
	OtherShard   int `json:"other-shard"`
	Retired      int `json:"retired"`
	MustFailed   int `json:"mustFailed"`
	ShouldFailed int `json:"shouldFailed"`
	// Warnings counts the failed SHOULD requirements that did not fail the
	// verdict: ShouldFailed, or 0 in a strict run.
	Warnings int `json:"warnings"`
	// Strict: failed SHOULDs fail the verdict like failed MUSTs.
	Strict bool `json:"strict"`
	// KnownFailures counts the failed requirements a baseline accepts
	// (which do not fail the verdict), StaleBaseline the baseline entries
	// that now pass (each fails it).
	KnownFailures int `json:"knownFailures"`
	StaleBaseline int `json:"staleBaseline"`
}

// Requirement is one row of SPEC.md with what the run made of it.
type Requirement struct {
	ID        string   `json:"id"`
	Area      string   `json:"area"`
	AreaTitle string   `json:"areaTitle"`
	Level     string   `json:"level"`
	Status    string   `json:"status"`
	Shapes    []string `json:"shapes"`
	Modes     []string `json:"modes"`
	Text      string   `json:"text"`
	Source    string   `json:"source"`
	Result    string   `json:"result"`
	// Reason says why a requirement that did not pass or fail has no
	// verdict: the skip reasons of its specs, or why none ran. Without it a
	// skipped requirement reads as silently unchecked.
	Reason string `json:"reason,omitempty"`
	// KnownFailure is set on a failed requirement the baseline lists: the
	// result stays failed, but it does not fail the verdict.
	KnownFailure *KnownFailure `json:"knownFailure,omitempty"`
	Specs        []Spec        `json:"specs"`
}

// Spec is one spec's outcome, kept with everything it captured so that a
// failure can be understood from the report alone.
type Spec struct {
	Spec       string   `json:"spec"`
	Fixture    string   `json:"fixture"`
	Shape      string   `json:"shape"`
	Result     string   `json:"result"`
	Message    string   `json:"message"`
	Exchanges  []string `json:"exchanges"`
	Logs       string   `json:"logs"`
	DurationMs float64  `json:"durationMs"`
}

// New builds the report of a run. res may be nil (nothing ran). It fails on
// an outcome naming a requirement SPEC.md does not have, or an unknown
// state, rather than drop it: a report that loses a failure is worse than
// no report.
func New(target Target, fixtures []string, res *suite.Results) (*Report, error) {
	reqs, err := suite.Requirements()
	if err != nil {
		return nil, fmt.Errorf("reports: reading SPEC.md: %w", err)
	}
	byID := map[string][]Spec{}
	known := map[string]bool{}
	for _, q := range reqs {
		known[q.ID] = true
	}
	var unknown []string
	if res != nil {
		for _, o := range res.Outcomes {
			if !known[o.Requirement] {
				unknown = append(unknown, fmt.Sprintf("requirement %q (spec %q)", o.Requirement, o.Spec))
				continue
			}
			switch o.State {
			case suite.Passed, suite.Failed, suite.Skipped, suite.NotApplicable, suite.OtherShard:
			default:
				return nil, fmt.Errorf("reports: spec %q of %s has unknown state %q", o.Spec, o.Requirement, o.State)
			}
			exchanges := make([]string, len(o.Exchanges))
			for i, e := range o.Exchanges {
				exchanges[i] = reportText(e)
			}
			byID[o.Requirement] = append(byID[o.Requirement], Spec{
				Spec: reportText(o.Spec), Fixture: reportText(o.Fixture), Shape: reportText(o.Shape), Result: string(o.State),
				Message: reportText(o.Message), Exchanges: exchanges, Logs: reportText(o.Logs),
				DurationMs: float64(o.Duration.Microseconds()) / 1000,
			})
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("reports: outcomes name requirements that SPEC.md does not define: %s", strings.Join(unknown, "; "))
	}

	r := &Report{
		Schema:      Schema,
		KitVersion:  adapterconformance.Version,
		GeneratedAt: time.Now().UTC().Truncate(time.Second),
		Target: Target{
			Name: reportText(target.Name), Mode: reportText(target.Mode),
			Declaration: target.Declaration, DeclarationError: reportText(target.DeclarationError),
		},
		Fixtures: nonNil(slices.Clone(fixtures)),
	}
	if res != nil {
		r.Seed = res.Seed
		if res.Shard.Count > 0 {
			sh := res.Shard
			r.Shard = &sh
		}
	}
	for _, q := range reqs {
		specs := nonNil(byID[q.ID])
		sortSpecs(specs, r.Fixtures)
		rq := Requirement{
			ID: q.ID, Area: q.Area, AreaTitle: q.AreaTitle, Level: q.Level, Status: q.Status,
			Shapes: nonNil(slices.Clone(q.Shapes)), Modes: nonNil(slices.Clone(q.Modes)),
			Text: q.Text, Source: q.Source, Specs: specs,
		}
		rq.Result = aggregate(specs)
		if rq.Result == NotRun && q.Retired() {
			rq.Result = Retired
		}
		rq.Reason = reason(rq)
		r.Requirements = append(r.Requirements, rq)
	}
	strict := false
	if res != nil {
		r.Incomplete = reportText(res.CutShort)
		strict = res.Strict
	}
	r.Summary = summarize(r.Requirements, r.Incomplete != "", strict, 0)
	return r, nil
}

// NotRunReport is the report of a run that could not happen: every
// requirement not run, with err as the reason. It is written so that a CI
// job that uploads the report directory finds the cause there, not an
// empty directory.
func NotRunReport(target Target, fixtures []string, err error) (*Report, error) {
	r, nerr := New(target, fixtures, nil)
	if nerr != nil {
		return nil, nerr
	}
	r.RunError = reportText(err.Error())
	for i := range r.Requirements {
		if r.Requirements[i].Status == "checked" {
			r.Requirements[i].Reason = "the kit could not run the target: " + firstLine(r.RunError)
		}
	}
	r.Summary = summarize(r.Requirements, false, r.Summary.Strict, 0)
	return r, nil
}

// MarkIncomplete records that the run was cut short (an interrupt, a
// timeout) before it could finish, why, and what that makes of the verdict
// (never a pass).
func (r *Report) MarkIncomplete(why string) {
	r.Incomplete = reportText(why)
	r.Summary = summarize(r.Requirements, true, r.Summary.Strict, len(r.StaleBaseline()))
}

// aggregate is the rule the whole report rests on: one failed spec fails the
// requirement, whatever passed elsewhere; a skip only counts when nothing
// gave a verdict.
func aggregate(specs []Spec) string {
	best := NotRun
	for _, s := range specs {
		if rank, ok := resultRank[s.Result]; ok && rank < resultRank[best] {
			best = s.Result
		}
	}
	return best
}

func reason(rq Requirement) string {
	switch rq.Result {
	case Skipped, NotApplicable, OtherShard:
		var reasons []string
		for _, s := range rq.Specs {
			if s.Result != rq.Result {
				continue
			}
			m := strings.TrimSpace(s.Message)
			if m == "" {
				m = "no reason given"
			}
			if !slices.Contains(reasons, m) {
				reasons = append(reasons, m)
			}
		}
		return strings.Join(reasons, "; ")
	case Retired:
		return "retired: no spec checks it"
	case NotRun:
		switch {
		case strings.HasPrefix(rq.Status, "planned"):
			return "not checked by this kit version yet (" + rq.Status + ")"
		default:
			return "no spec ran: excluded by --focus or --label-filter, or by the fixtures selected (the general specs run on the basic fixture only)"
		}
	}
	return ""
}

// summarize counts the requirements and gives the verdict. A run that did
// not finish is never a pass: what it did not reach might have failed. A
// failed SHOULD is a warning unless the run is strict; a failure the
// baseline lists is known and does not fail it, a stale baseline entry does.
func summarize(reqs []Requirement, incomplete, strict bool, stale int) Summary {
	s := Summary{Total: len(reqs), Strict: strict, StaleBaseline: stale}
	for _, q := range reqs {
		switch q.Result {
		case Passed:
			s.Passed++
		case Failed:
			s.Failed++
			if q.KnownFailure != nil && (strict || q.Level != "SHOULD") {
				s.KnownFailures++
			}
			switch q.Level {
			case "MUST":
				s.MustFailed++
			case "SHOULD":
				s.ShouldFailed++
			}
		case Skipped:
			s.Skipped++
		case NotApplicable:
			s.NotApplicable++
		case NotRun:
			s.NotRun++
		case OtherShard:
			s.OtherShard++
		case Retired:
			s.Retired++
		}
	}
	if !strict {
		s.Warnings = s.ShouldFailed
	}
	switch {
	case s.Failed > s.Warnings+s.KnownFailures || s.StaleBaseline > 0:
		s.Verdict = VerdictFail
	case (s.Passed == 0 && s.Failed == 0) || incomplete:
		s.Verdict = VerdictInconclusive
	default:
		s.Verdict = VerdictPass
	}
	return s
}

// WriteJSON writes the report as indented JSON, the form Read accepts.
func WriteJSON(r *Report, w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Captured bodies are HTML more often than not; keeping <, > and &
	// readable in the JSON costs nothing, since no format embeds it raw.
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// Read loads a report written by WriteJSON. It refuses another schema
// outright, rather than decoding it into v1 fields that may mean something
// else and rendering a confidently wrong report.
func Read(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var head struct {
		Schema *string `json:"schema"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%s: not an adapter-conformance report: %w", path, err)
	}
	if head.Schema == nil {
		return nil, fmt.Errorf("%s: not an adapter-conformance report: no \"schema\" field (want %q)", path, Schema)
	}
	if *head.Schema != Schema {
		return nil, fmt.Errorf("%s: report schema %q is not supported: this kit (%s) reads %q", path, *head.Schema, adapterconformance.Version, Schema)
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// Files are the names WriteAll uses, exported so that a CLI can print where
// each one went.
const (
	JSONFile     = "report.json"
	JUnitFile    = "junit.xml"
	HTMLFile     = "report.html"
	MarkdownFile = "summary.md"
)

// WriteAll writes every format into dir, creating it. Each file is written
// to a temporary name and renamed, so a reader (or a CI step that uploads
// the directory) never sees half a report.
func (r *Report) WriteAll(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	outputs := []struct {
		name  string
		write func(*Report, io.Writer) error
	}{
		{JSONFile, WriteJSON},
		{JUnitFile, WriteJUnit},
		{HTMLFile, WriteHTML},
		{MarkdownFile, WriteMarkdown},
	}
	var errs []error
	for _, o := range outputs {
		if err := writeFile(filepath.Join(dir, o.name), r, o.write); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func writeFile(path string, r *Report, write func(*Report, io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(r, &buf); err != nil {
		return fmt.Errorf("reports: %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	_, werr := tmp.Write(buf.Bytes())
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("reports: %s: %w", path, err)
	}
	// CreateTemp makes the file private; a report is meant to be read.
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("reports: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("reports: %w", err)
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
