package reports

import (
	"slices"
	"sort"

	"github.com/adapterconformance/adapter-conformance/app"
)

// How a report is shown: shapes and specs in their reading order, and
// each requirement as the person reading it sees it (a failed SHOULD is a
// warning, a baselined failure is known), the same in every format.

// shapeOrder is the order in which host shapes are listed, the order of
// SPEC.md; shapes it does not know come after, by name.
var shapeOrder = []string{
	string(app.ShapeStart), string(app.ShapeHandler), string(app.ShapeFetch),
	string(app.ShapeLambdaV1), string(app.ShapeLambdaV2), string(app.ShapeFunctionURL),
}

func shapeRank(s string) int {
	if i := slices.Index(shapeOrder, s); i >= 0 {
		return i
	}
	return len(shapeOrder)
}

// sortSpecs makes the report independent of ginkgo's randomized spec order,
// so two reports of the same run diff cleanly.
func sortSpecs(specs []Spec, fixtures []string) {
	fixtureRank := func(f string) int {
		if i := slices.Index(fixtures, f); i >= 0 {
			return i
		}
		return len(fixtures)
	}
	sort.SliceStable(specs, func(i, j int) bool {
		a, b := specs[i], specs[j]
		if fa, fb := fixtureRank(a.Fixture), fixtureRank(b.Fixture); fa != fb {
			return fa < fb
		}
		if a.Fixture != b.Fixture {
			return a.Fixture < b.Fixture
		}
		if sa, sb := shapeRank(a.Shape), shapeRank(b.Shape); sa != sb {
			return sa < sb
		}
		if a.Shape != b.Shape {
			return a.Shape < b.Shape
		}
		return a.Spec < b.Spec
	})
}

// Shapes returns the host shapes the report has something to say about: the
// ones the target declared and the ones specs ran on. The matrix has a column
// for each, so a declared shape that no spec drove shows up as a gap.
func (r *Report) Shapes() []string {
	set := map[string]bool{}
	if r.Target.Declaration != nil {
		for _, s := range r.Target.Declaration.Shapes {
			set[string(s)] = true
		}
	}
	for _, q := range r.Requirements {
		for _, s := range q.Specs {
			if s.Shape != "" {
				set[s.Shape] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if ri, rj := shapeRank(out[i]), shapeRank(out[j]); ri != rj {
			return ri < rj
		}
		return out[i] < out[j]
	})
	return out
}

// ShapeResult aggregates a requirement's specs on one host shape, so the
// matrix can show that a requirement fails on fetch but passes on start.
// It is "" when no spec of the requirement ran on that shape.
func (q Requirement) ShapeResult(shape string) string {
	var specs []Spec
	for _, s := range q.Specs {
		if s.Shape == shape {
			specs = append(specs, s)
		}
	}
	if len(specs) == 0 {
		return ""
	}
	return aggregate(specs)
}

// Failures returns the failed requirements that fail the verdict, in SPEC
// order, the list every format leads with: every failed MUST, and the
// failed SHOULDs of a strict run, less the known failures of a baseline.
func (r *Report) Failures() []Requirement { return r.shownAs(Failed) }

// Warnings returns the failed SHOULD requirements that only warn (none in a
// strict run), in SPEC order.
func (r *Report) Warnings() []Requirement { return r.shownAs("warning") }

// IsWarning: the requirement failed, and its failure is a warning.
func (r *Report) IsWarning(q Requirement) bool {
	return q.Result == Failed && q.Level == "SHOULD" && !r.Summary.Strict
}

// DisplayResult is the result as the formats show it: "warning" for a
// failed SHOULD that only warns, "known-failure" for a failure the
// baseline lists, else the result.
func (r *Report) DisplayResult(q Requirement) string {
	if r.IsWarning(q) {
		return "warning"
	}
	if r.IsKnownFailure(q) {
		return "known-failure"
	}
	return q.Result
}

// shownAs returns the requirements whose DisplayResult is display, in SPEC
// order.
func (r *Report) shownAs(display string) []Requirement {
	var out []Requirement
	for _, q := range r.Requirements {
		if r.DisplayResult(q) == display {
			out = append(out, q)
		}
	}
	return out
}

func (r *Report) withResult(result string) []Requirement {
	var out []Requirement
	for _, q := range r.Requirements {
		if q.Result == result {
			out = append(out, q)
		}
	}
	return out
}
