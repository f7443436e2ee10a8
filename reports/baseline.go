package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/adapterconformance/adapter-conformance/suite"
)

// BaselineSchema identifies the layout of a baseline file.
const BaselineSchema = "adapter-conformance/baseline/v1"

// Baseline lists the failures a project knows about and has not fixed yet
// (--baseline FILE, suite.Baseline(path)). A known failure is still
// reported as failed, marked with its reason, but it does not fail the
// verdict; a failure it does not list does; and an entry whose requirement
// now passes is stale and fails the verdict too, so a baseline only
// shrinks.
type Baseline struct {
	Schema        string          `json:"schema"`
	KnownFailures []BaselineEntry `json:"knownFailures"`
}

// BaselineEntry is one known failure: a requirement, on one host shape or
// (Shape "") on every shape, with why it is accepted and where it is
// tracked.
type BaselineEntry struct {
	ID     string `json:"id"`
	Shape  string `json:"shape,omitempty"`
	Reason string `json:"reason"`
	Link   string `json:"link,omitempty"`
}

// KnownFailure marks a failed requirement that the baseline lists.
type KnownFailure struct {
	Reason string `json:"reason"`
	Link   string `json:"link,omitempty"`
}

// BaselineResult is what the baseline made of a run: the file and its
// stale entries (listed failures that now pass), each of which fails the
// verdict.
type BaselineResult struct {
	File  string          `json:"file"`
	Stale []BaselineEntry `json:"stale"`
	// Entries are the baseline's entries, so that "report merge" can apply
	// the baseline to the merged report as the unsharded run would have.
	Entries []BaselineEntry `json:"entries,omitempty"`
}

// ReadBaseline loads and checks a baseline file: an entry naming a
// requirement SPEC.md does not have, or without a reason, is an error
// (a typo would otherwise accept nothing and go unnoticed).
func ReadBaseline(path string) (*Baseline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var b Baseline
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("baseline %s: %w", path, err)
	}
	if b.Schema != BaselineSchema {
		return nil, fmt.Errorf("baseline %s: schema %q is not supported (want %q)", path, b.Schema, BaselineSchema)
	}
	var errs []string
	for i, e := range b.KnownFailures {
		if _, ok := suite.RequirementByID(e.ID); !ok {
			errs = append(errs, fmt.Sprintf("entry %d: no requirement %q in SPEC.md", i+1, e.ID))
		}
		if e.Shape != "" && !slices.Contains(shapeOrder, e.Shape) {
			errs = append(errs, fmt.Sprintf("entry %d (%s): unknown shape %q", i+1, e.ID, e.Shape))
		}
		if strings.TrimSpace(e.Reason) == "" {
			errs = append(errs, fmt.Sprintf("entry %d (%s): a reason is required", i+1, e.ID))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("baseline %s: %s", path, strings.Join(errs, "; "))
	}
	return &b, nil
}

// ApplyBaseline marks the report's known failures and stale entries and
// recomputes the verdict. file is the baseline's path, as reports show it.
// A requirement is a known failure when every one of its failed specs is on
// a shape some entry for it covers; a failure on a shape the baseline does
// not name is new. An entry is stale when its requirement (on its shape)
// passed; one whose requirement did not run this time (--focus, a filter)
// is neither known nor stale, and so is one whose requirement has specs
// that another shard ran (--shard): only the merged report can tell.
func (r *Report) ApplyBaseline(b *Baseline, file string) {
	res := &BaselineResult{File: reportText(file), Stale: []BaselineEntry{}}
	for _, e := range b.KnownFailures {
		res.Entries = append(res.Entries, BaselineEntry{ID: e.ID, Shape: e.Shape, Reason: reportText(e.Reason), Link: reportText(e.Link)})
	}
	covers := func(e BaselineEntry, id, shape string) bool {
		return e.ID == id && (e.Shape == "" || e.Shape == shape)
	}
	for i := range r.Requirements {
		q := &r.Requirements[i]
		q.KnownFailure = nil
		if q.Result != Failed {
			continue
		}
		var reasons, links []string
		known := true
		for _, s := range q.failedSpecs() {
			found := false
			for _, e := range b.KnownFailures {
				if covers(e, q.ID, s.Shape) {
					found = true
					if !slices.Contains(reasons, e.Reason) {
						reasons = append(reasons, e.Reason)
					}
					if e.Link != "" && !slices.Contains(links, e.Link) {
						links = append(links, e.Link)
					}
				}
			}
			known = known && found
		}
		if known {
			q.KnownFailure = &KnownFailure{Reason: reportText(strings.Join(reasons, "; ")), Link: reportText(strings.Join(links, " "))}
		}
	}
	for _, e := range b.KnownFailures {
		q, ok := r.requirement(e.ID)
		if !ok {
			continue
		}
		passed := q.Result == Passed
		if e.Shape != "" {
			passed = q.ShapeResult(e.Shape) == Passed
		}
		for _, s := range q.Specs {
			if s.Result == OtherShard && (e.Shape == "" || s.Shape == e.Shape) {
				passed = false
			}
		}
		if passed {
			res.Stale = append(res.Stale, BaselineEntry{ID: e.ID, Shape: e.Shape, Reason: reportText(e.Reason), Link: reportText(e.Link)})
		}
	}
	r.Baseline = res
	r.Summary = summarize(r.Requirements, r.Incomplete != "", r.Summary.Strict, len(res.Stale))
}

// WriteBaseline writes a baseline of the report's failures, one entry per
// failed requirement and shape, the form --baseline reads: every failure
// that fails the verdict and every known one (with its recorded reason),
// but not the SHOULD failures that only warn.
func (r *Report) WriteBaseline(path string) error {
	b := Baseline{Schema: BaselineSchema, KnownFailures: []BaselineEntry{}}
	for _, q := range r.withResult(Failed) {
		if r.IsWarning(q) {
			continue
		}
		reason := "known failure: " + firstLine(q.failedSpecs()[0].Message)
		link := ""
		if q.KnownFailure != nil {
			reason, link = q.KnownFailure.Reason, q.KnownFailure.Link
		}
		var shapes []string
		for _, s := range q.failedSpecs() {
			if !slices.Contains(shapes, s.Shape) {
				shapes = append(shapes, s.Shape)
			}
		}
		if slices.Contains(shapes, "") {
			shapes = []string{""}
		}
		for _, sh := range shapes {
			b.KnownFailures = append(b.KnownFailures, BaselineEntry{ID: q.ID, Shape: sh, Reason: reason, Link: link})
		}
	}
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing the baseline: %w", err)
	}
	return nil
}

// IsKnownFailure: the requirement failed, the baseline lists the failure,
// and it would otherwise fail the verdict (a SHOULD that only warns stays a
// warning).
func (r *Report) IsKnownFailure(q Requirement) bool {
	return q.Result == Failed && q.KnownFailure != nil && !r.IsWarning(q)
}

// KnownFailures returns the failed requirements the baseline accepts, in
// SPEC order.
func (r *Report) KnownFailures() []Requirement { return r.shownAs("known-failure") }

// StaleBaseline returns the baseline entries whose requirement now passes.
func (r *Report) StaleBaseline() []BaselineEntry {
	if r.Baseline == nil {
		return nil
	}
	return r.Baseline.Stale
}

// StaleMessage says what to do about a stale entry.
func StaleMessage(e BaselineEntry) string {
	name := e.ID
	if e.Shape != "" {
		name += " (shape " + e.Shape + ")"
	}
	return "baseline entry " + name + " is stale: it now passes; remove it from the baseline (" + e.Reason + ")"
}

func (r *Report) requirement(id string) (Requirement, bool) {
	for _, q := range r.Requirements {
		if q.ID == id {
			return q, true
		}
	}
	return Requirement{}, false
}
