package reports

import (
	"fmt"
	"io"
	"strings"
)

// Change is one requirement whose result changed between two reports.
type Change struct {
	ID, Level, Text string
	Old, New        string // the DisplayResults
	// Message is the first failure line of the new report's failed spec,
	// for a requirement that newly fails.
	Message string
}

// Diff is what changed between an old report and a new one of the same
// kind of run (a base branch's and a pull request's): the requirements
// that fail in New and did not in Old, and those that failed in Old and
// pass in New. A requirement counts as failing when it failed at all
// (a warning or a known failure included: it is still broken), as passing
// when it passed. Requirements that were checked in Old and not in New
// (another --focus, a shard) are NoLongerChecked: neither better nor worse.
type Diff struct {
	Old, New                   *Report
	NewlyFailing, NewlyPassing []Change
	NoLongerChecked            []Change
}

// Compare diffs two reports by requirement ID.
func Compare(old, new *Report) *Diff {
	d := &Diff{Old: old, New: new}
	before := map[string]Requirement{}
	for _, q := range old.Requirements {
		before[q.ID] = q
	}
	for _, q := range new.Requirements {
		o, ok := before[q.ID]
		oldResult := NotRun
		if ok {
			oldResult = o.Result
		}
		c := Change{ID: q.ID, Level: q.Level, Text: q.Text, New: new.DisplayResult(q), Old: NotRun}
		if ok {
			c.Old = old.DisplayResult(o)
		}
		switch {
		case q.Result == Failed && oldResult != Failed:
			if f := q.failedSpecs(); len(f) > 0 {
				c.Message = firstLine(f[0].Message)
			}
			d.NewlyFailing = append(d.NewlyFailing, c)
		case q.Result == Passed && oldResult == Failed:
			d.NewlyPassing = append(d.NewlyPassing, c)
		case (oldResult == Passed || oldResult == Failed) && q.Result != Passed && q.Result != Failed:
			d.NoLongerChecked = append(d.NoLongerChecked, c)
		}
	}
	return d
}

// WriteMarkdown writes the diff as a pull-request comment: what newly
// fails first, with the commands that rerun it, then what newly passes.
func (d *Diff) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("## adapter-conformance: changes\n\n")
	fmt.Fprintf(&b, "Target %s in %s mode: **%s** → **%s**; %d newly failing, %d newly passing.\n\n",
		mdText(d.New.Target.Name), mdText(d.New.Target.Mode), strings.ToUpper(d.Old.Summary.Verdict), strings.ToUpper(d.New.Summary.Verdict),
		len(d.NewlyFailing), len(d.NewlyPassing))
	if len(d.NewlyFailing) == 0 && len(d.NewlyPassing) == 0 && len(d.NoLongerChecked) == 0 {
		b.WriteString("No requirement changed its result.\n")
	}
	if len(d.NewlyFailing) > 0 {
		b.WriteString("### Newly failing\n\n| ID | Level | Was | Now | Requirement | Message |\n|---|---|---|---|---|---|\n")
		for _, c := range d.NewlyFailing {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", mdText(c.ID), mdText(c.Level), mdText(c.Old), mdText(c.New), mdText(c.Text), mdText(c.Message))
		}
		b.WriteString("\n```sh\n")
		for _, c := range d.NewlyFailing {
			b.WriteString(fence(d.New.RerunCommand(c.ID)) + "\n")
		}
		b.WriteString("```\n\n")
	}
	if len(d.NewlyPassing) > 0 {
		b.WriteString("### Newly passing\n\n| ID | Level | Was | Requirement |\n|---|---|---|---|\n")
		for _, c := range d.NewlyPassing {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdText(c.ID), mdText(c.Level), mdText(c.Old), mdText(c.Text))
		}
		b.WriteString("\n")
	}
	if len(d.NoLongerChecked) > 0 {
		ids := make([]string, len(d.NoLongerChecked))
		for i, c := range d.NoLongerChecked {
			ids[i] = mdText(c.ID) + " (" + mdText(c.Old) + " → " + mdText(c.New) + ")"
		}
		fmt.Fprintf(&b, "No longer checked: %s.\n", strings.Join(ids, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
