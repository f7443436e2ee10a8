package reports

import (
	"fmt"
	"strings"
)

// Count is how many requirements a run reports with one result, as every
// format shows it: the terminal's counts line, summary.md's table and
// report.html's header are all rendered from Report.Counts, so they cannot
// disagree.
type Count struct {
	// Result is the DisplayResult counted ("passed", "warning", ...).
	Result string
	// Label is how the count is named: "warnings (failed SHOULD)".
	Label string
	N     int
}

// Counts are the requirements of the report by DisplayResult, in a fixed
// order: passed; failed (only what fails the verdict); warning (a failed
// SHOULD that does not); known-failure (a failure the baseline accepts);
// skipped; not-applicable; not-run (left out by --focus or a label filter,
// or planned); other-shard (left to another shard); retired (kept in
// SPEC.md for its ID). They add up to the number of requirements.
func (r *Report) Counts() []Count {
	counts := []Count{
		{Result: Passed, Label: "passed"},
		{Result: Failed, Label: "failed"},
		{Result: "warning", Label: "warnings (failed SHOULD)"},
		{Result: "known-failure", Label: "known failures (baseline)"},
		{Result: Skipped, Label: "skipped"},
		{Result: NotApplicable, Label: "not applicable"},
		{Result: NotRun, Label: "not run"},
		{Result: OtherShard, Label: "other shard"},
		{Result: Retired, Label: "retired"},
	}
	for _, q := range r.Requirements {
		d := r.DisplayResult(q)
		for i := range counts {
			if counts[i].Result == d {
				counts[i].N++
			}
		}
	}
	return counts
}

// Shown is what a one-line summary shows of the counts: passed and failed
// always, the others when not zero.
func (c Count) Shown() bool { return c.N > 0 || c.Result == Passed || c.Result == Failed }

// CountsLine is the counts as one line, the terminal's and the HTML
// header's: "97 requirements: 80 passed, 0 failed, 2 warnings (failed
// SHOULD), 12 not applicable, 3 retired".
func (r *Report) CountsLine() string {
	var parts []string
	for _, c := range r.Counts() {
		if c.Shown() {
			parts = append(parts, fmt.Sprintf("%d %s", c.N, c.Label))
		}
	}
	return fmt.Sprintf("%d requirements: %s", len(r.Requirements), strings.Join(parts, ", "))
}
