package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/adapterconformance/adapter-conformance/reports"
)

// summarize prints the report's counts (reports.Counts, as summary.md and
// report.html show them) and a rerun command per failure, the report's own
// (so the terminal and the files agree). The table of requirements comes
// with -v, or when something failed, to find it among the rows.
func summarize(w io.Writer, r *reports.Report, verbose bool) {
	failures, known, warnings := r.Failures(), r.KnownFailures(), r.Warnings()
	if verbose || len(failures) > 0 || len(known) > 0 {
		printRequirements(w, r)
	}
	fmt.Fprintf(w, "\n%s\n", r.CountsLine())
	for _, q := range failures {
		fmt.Fprintf(w, "rerun: %s\n", r.RerunCommand(q.ID))
	}
	if len(known) > 0 {
		fmt.Fprintf(w, "known failures: %d requirement(s) fail as the baseline %s says (%s); they do not fail the run\n", len(known), r.Baseline.File, strings.Join(requirementIDs(known), ", "))
	}
	for _, e := range r.StaleBaseline() {
		fmt.Fprintf(w, "stale: %s\n", reports.StaleMessage(e))
	}
	if len(warnings) > 0 {
		fmt.Fprintf(w, "warning: %d SHOULD requirement(s) failed (%s); they do not fail the run without --strict\n", len(warnings), strings.Join(requirementIDs(warnings), ", "))
		for _, q := range warnings {
			fmt.Fprintf(w, "rerun (warning): %s\n", r.RerunCommand(q.ID))
		}
	}
}

// printRequirements prints the table of the requirements a spec ran for,
// with their results as the report shows them, in natural ID order.
func printRequirements(w io.Writer, r *reports.Report) {
	rows := slices.Clone(r.Requirements)
	slices.SortStableFunc(rows, func(a, b reports.Requirement) int { return compareIDs(a.ID, b.ID) })
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nREQUIREMENT\tLEVEL\tRESULT")
	for _, q := range rows {
		switch q.Result {
		case reports.NotRun, reports.Retired, reports.OtherShard:
			continue // counted, not listed: nothing ran for them here
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", q.ID, q.Level, r.DisplayResult(q))
	}
	tw.Flush()
}

// requirementIDs are the requirements' IDs, in their order.
func requirementIDs(qs []reports.Requirement) []string {
	ids := make([]string, len(qs))
	for i, q := range qs {
		ids[i] = q.ID
	}
	return ids
}

// compareIDs orders requirement IDs naturally: by area, then by number,
// so that HTTP-2 comes before HTTP-10.
func compareIDs(a, b string) int {
	aa, an, _ := strings.Cut(a, "-")
	ba, bn, _ := strings.Cut(b, "-")
	if c := strings.Compare(aa, ba); c != 0 {
		return c
	}
	ai, aerr := strconv.Atoi(an)
	bi, berr := strconv.Atoi(bn)
	if aerr != nil || berr != nil {
		return strings.Compare(an, bn)
	}
	return ai - bi
}
