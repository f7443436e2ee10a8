package reports

import (
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown writes a short summary meant for a CI job summary or a pull
// request comment: the verdict, the counts, what failed with a command to
// rerun it, and what was skipped and why. Details stay in the HTML page and
// the JSON; this is what a reviewer reads first.
func WriteMarkdown(r *Report, w io.Writer) error {
	var b strings.Builder
	s := r.Summary
	verdict := strings.ToUpper(s.Verdict)
	heading := verdict
	if s.Warnings > 0 {
		heading += fmt.Sprintf(" with %d warning(s)", s.Warnings)
	}
	fmt.Fprintf(&b, "# adapter-conformance: %s\n\n", heading)
	switch {
	case s.Verdict == VerdictFail && s.Failed-s.Warnings-s.KnownFailures == 0:
		fmt.Fprintf(&b, "**%s**: nothing failed for target %s in %s mode beyond the baseline's known failures, but %d baseline entry(ies) are stale (they now pass).\n\n",
			verdict, mdText(r.Target.Name), mdText(r.Target.Mode), s.StaleBaseline)
	case s.Verdict == VerdictFail:
		must, should := 0, 0
		for _, q := range r.Failures() {
			if q.Level == "SHOULD" {
				should++
			} else {
				must++
			}
		}
		fmt.Fprintf(&b, "**%s**: %d requirement(s) failed (%d MUST, %d SHOULD) for target %s in %s mode.\n\n",
			verdict, must+should, must, should, mdText(r.Target.Name), mdText(r.Target.Mode))
	case r.RunError != "":
		fmt.Fprintf(&b, "**%s**: the kit could not run target %s in %s mode, so no requirement was checked.\n\n%s\n\n",
			verdict, mdText(r.Target.Name), mdText(r.Target.Mode), indentedBlock(truncate(r.RunError, 4000)))
	case r.Incomplete != "":
		fmt.Fprintf(&b, "**%s**: no requirement failed for target %s in %s mode, but the run did not finish, so not everything was checked.\n\n",
			verdict, mdText(r.Target.Name), mdText(r.Target.Mode))
	case s.Verdict == VerdictInconclusive:
		fmt.Fprintf(&b, "**%s**: no requirement passed or failed for target %s in %s mode: the filters or the fixtures left nothing that applies.\n\n",
			verdict, mdText(r.Target.Name), mdText(r.Target.Mode))
	case s.KnownFailures > 0:
		fmt.Fprintf(&b, "**%s**: nothing failed for target %s in %s mode but the %d known failure(s) of the baseline.\n\n",
			verdict, mdText(r.Target.Name), mdText(r.Target.Mode), s.KnownFailures)
	case s.Warnings > 0:
		fmt.Fprintf(&b, "**%s**: every MUST that ran passed for target %s in %s mode.\n\n",
			verdict, mdText(r.Target.Name), mdText(r.Target.Mode))
	default:
		fmt.Fprintf(&b, "**%s**: every requirement that ran passed for target %s in %s mode.\n\n",
			verdict, mdText(r.Target.Name), mdText(r.Target.Mode))
	}
	if s.Warnings > 0 {
		fmt.Fprintf(&b, "**Warning**: %d SHOULD requirement(s) failed. A failed SHOULD does not fail the verdict (run with --strict, or suite.Strict(), to make it).\n\n", s.Warnings)
	}
	for _, e := range r.StaleBaseline() {
		fmt.Fprintf(&b, "**Stale baseline entry**: %s\n\n", mdText(StaleMessage(e)))
	}
	fmt.Fprintf(&b, "Kit %s, fixtures: %s, generated %s.\n\n",
		mdText(r.KitVersion), mdText(strings.Join(r.Fixtures, ", ")), r.GeneratedAt.UTC().Format("2006-01-02T15:04:05Z07:00"))
	if r.Incomplete != "" {
		fmt.Fprintf(&b, "**The run did not finish**: %s. The requirements it did not reach are skipped or not run.\n\n", mdText(r.Incomplete))
	}
	if r.Target.DeclarationError != "" {
		fmt.Fprintf(&b, "Declaration error: %s\n\n", mdText(firstLine(r.Target.DeclarationError)))
	}

	b.WriteString("| Result | Requirements |\n|---|---:|\n")
	for _, c := range r.Counts() {
		if c.Shown() {
			fmt.Fprintf(&b, "| %s | %d |\n", c.Label, c.N)
		}
	}
	fmt.Fprintf(&b, "| total | %d |\n", len(r.Requirements))

	requirementTable(&b, r, "Failed requirements", "### Rerun one requirement\n\n", r.Failures())
	requirementTable(&b, r, "Warnings: failed SHOULD requirements", "", r.Warnings())
	if known := r.KnownFailures(); len(known) > 0 {
		b.WriteString("\n## Known failures (baseline)\n\nThey still fail, as the baseline says; they do not fail the verdict.\n\n| ID | Level | Reason | Link |\n|---|---|---|---|\n")
		for _, q := range known {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdText(q.ID), mdText(q.Level), mdText(q.KnownFailure.Reason), mdText(q.KnownFailure.Link))
		}
	}

	if skipped := r.withResult(Skipped); len(skipped) > 0 {
		b.WriteString("\n## Skipped requirements\n\n| ID | Level | Reason |\n|---|---|---|\n")
		for _, q := range skipped {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", mdText(q.ID), mdText(q.Level), mdText(truncate(q.Reason, 300)))
		}
	}
	if na := r.withResult(NotApplicable); len(na) > 0 {
		ids := make([]string, len(na))
		for i, q := range na {
			ids[i] = mdText(q.ID)
		}
		fmt.Fprintf(&b, "\nNot applicable to this target: %s.\n", strings.Join(ids, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// requirementTable lists failed requirements with their first message and
// the commands that rerun them.
func requirementTable(b *strings.Builder, r *Report, title, rerunHeading string, reqs []Requirement) {
	if len(reqs) == 0 {
		return
	}
	b.WriteString("\n## " + title + "\n\n| ID | Level | Requirement | Message |\n|---|---|---|---|\n")
	for _, q := range reqs {
		msg := ""
		if f := q.failedSpecs(); len(f) > 0 {
			msg = firstLine(f[0].Message)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", mdText(q.ID), mdText(q.Level), mdText(q.Text), mdText(msg))
	}
	b.WriteString("\n" + rerunHeading + "```sh\n")
	for _, q := range reqs {
		b.WriteString(fence(r.RerunCommand(q.ID)))
		b.WriteString("\n")
	}
	b.WriteString("```\n")
}

var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "|", `\|`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", "&lt;", ">", "&gt;", "&", "&amp;",
	"\r\n", " ", "\n", " ", "\r", " ",
)

// mdText makes captured text inert inside a Markdown table cell: it cannot
// end the cell, start a code span or link, or inject HTML (GitHub renders
// inline HTML in job summaries and comments).
func mdText(s string) string {
	return mdEscaper.Replace(printable(s))
}

// indentedBlock makes text an indented code block: unlike a fenced one,
// nothing inside it (a line of backticks in a build log) can end it.
func indentedBlock(s string) string {
	s = strings.TrimRight(strings.ReplaceAll(printable(s), "\r", ""), "\n")
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// fence keeps the command on one line of its code block: a fence closes only
// at the start of a line, and every command starts with the kit's name.
func fence(s string) string {
	return printable(strings.NewReplacer("\r", " ", "\n", " ").Replace(s))
}
