package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// The JUnit layout is the one CI dashboards (GitHub, GitLab, Jenkins) agree
// on: testsuites > testsuite > testcase, with failure and skipped children.
// A testcase is a requirement, not a spec, so that the dashboard's test names
// are the stable IDs that --focus takes.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure"`
	Error     *junitFailure `xml:"error"`
	Skipped   *junitSkipped `xml:"skipped"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// WriteJUnit writes the report as JUnit XML: one testsuite per SPEC.md area,
// one testcase per requirement.
//
// The JUnit failures are exactly what fails the verdict (and the CLI's exit
// status), because CI dashboards and reporters often fail a check on any
// <failure>. So a failed SHOULD that only warns is a testcase without a
// failure element: its <system-out> starts with "WARNING: SHOULD ... failed"
// and carries the whole failure text, and the "warnings" property counts
// them. In a strict run a failed SHOULD is a <failure> of type SHOULD.
func WriteJUnit(r *Report, w io.Writer) error {
	props := []junitProperty{
		{"kitVersion", r.KitVersion},
		{"target", r.Target.Name},
		{"mode", r.Target.Mode},
		{"fixtures", strings.Join(r.Fixtures, ",")},
		{"verdict", r.Summary.Verdict},
		{"warnings", strconv.Itoa(r.Summary.Warnings)},
		{"knownFailures", strconv.Itoa(r.Summary.KnownFailures)},
		{"strict", strconv.FormatBool(r.Summary.Strict)},
		{"schema", r.Schema},
	}
	if r.Target.DeclarationError != "" {
		props = append(props, junitProperty{"declarationError", r.Target.DeclarationError})
	}
	if r.RunError != "" {
		props = append(props, junitProperty{"runError", r.RunError})
	}
	if r.Incomplete != "" {
		props = append(props, junitProperty{"incomplete", r.Incomplete})
	}
	for i := range props {
		props[i].Value = printable(props[i].Value)
	}
	root := junitSuites{Name: printable("adapter-conformance " + r.Target.Name)}
	var total float64
	for _, area := range r.areas() {
		s := junitSuite{
			Name:       printable(area.Area + ": " + area.Title),
			Timestamp:  r.GeneratedAt.UTC().Format("2006-01-02T15:04:05"),
			Properties: props,
		}
		var suiteTime float64
		for _, q := range area.Requirements {
			secs := q.seconds()
			suiteTime += secs
			c := junitCase{
				Name:      printable(q.ID + ": " + q.Text),
				Classname: printable("adapter-conformance." + q.Area),
				Time:      fmt.Sprintf("%.3f", secs),
			}
			switch {
			case r.IsWarning(q):
				c.SystemOut = printable("WARNING: SHOULD " + q.ID + " failed; a failed SHOULD does not fail the verdict (--strict makes it a failure): " +
					failureSummary(q) + "\n\n" + failureText(r, q))
			case r.IsKnownFailure(q):
				c.SystemOut = printable("KNOWN FAILURE: " + q.ID + " failed, as the baseline expects (" + q.KnownFailure.Reason + "); it does not fail the verdict: " +
					failureSummary(q) + "\n\n" + failureText(r, q))
			case q.Result == Failed:
				s.Failures++
				c.Failure = &junitFailure{
					Message: printable(failureSummary(q)),
					Type:    printable(q.Level),
					Text:    printable(failureText(r, q)),
				}
			case q.Result == Skipped || q.Result == NotApplicable || q.Result == NotRun || q.Result == OtherShard || q.Result == Retired:
				s.Skipped++
				c.Skipped = &junitSkipped{Message: printable(q.Result + ": " + q.Reason)}
			}
			s.Tests++
			s.Cases = append(s.Cases, c)
		}
		s.Time = fmt.Sprintf("%.3f", suiteTime)
		total += suiteTime
		root.Tests += s.Tests
		root.Failures += s.Failures
		root.Skipped += s.Skipped
		root.Suites = append(root.Suites, s)
	}
	// A run that could not happen, or did not finish, is an errored
	// testcase of its own: a dashboard shows a column of skipped
	// requirements as green, and this run checked nothing, or not everything.
	for _, e := range []struct{ name, text string }{{"run the target", r.RunError}, {"finish the run", r.Incomplete}} {
		if e.text == "" {
			continue
		}
		root.Suites = append([]junitSuite{{
			Name: "adapter-conformance", Tests: 1, Errors: 1, Time: "0.000",
			Timestamp: r.GeneratedAt.UTC().Format("2006-01-02T15:04:05"), Properties: props,
			Cases: []junitCase{{
				Name: e.name, Classname: "adapter-conformance", Time: "0.000",
				Error: &junitFailure{Message: printable(firstLine(e.text)), Type: "run error", Text: printable(e.text)},
			}},
		}}, root.Suites...)
		root.Tests++
		root.Errors++
	}
	// A stale baseline entry fails the verdict, so it is a failed testcase
	// of its own, in a suite of its own.
	if stale := r.StaleBaseline(); len(stale) > 0 {
		s := junitSuite{
			Name: "adapter-conformance baseline", Time: "0.000",
			Timestamp: r.GeneratedAt.UTC().Format("2006-01-02T15:04:05"), Properties: props,
		}
		for _, e := range stale {
			msg := printable(StaleMessage(e))
			s.Cases = append(s.Cases, junitCase{
				Name: printable(strings.TrimSpace("baseline entry " + e.ID + " " + e.Shape)), Classname: "adapter-conformance.baseline", Time: "0.000",
				Failure: &junitFailure{Message: msg, Type: "stale baseline", Text: msg},
			})
			s.Tests++
			s.Failures++
		}
		root.Suites = append(root.Suites, s)
		root.Tests += s.Tests
		root.Failures += s.Failures
	}
	root.Time = fmt.Sprintf("%.3f", total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(root); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func (q Requirement) seconds() float64 {
	var ms float64
	for _, s := range q.Specs {
		ms += s.DurationMs
	}
	return ms / 1000
}

func (q Requirement) failedSpecs() []Spec {
	var out []Spec
	for _, s := range q.Specs {
		if s.Result == Failed {
			out = append(out, s)
		}
	}
	return out
}

// failureSummary is the one line a dashboard shows next to the red test.
func failureSummary(q Requirement) string {
	failed := q.failedSpecs()
	if len(failed) == 0 {
		return q.Level + " " + q.ID + " failed"
	}
	var lines []string
	for _, s := range failed {
		if l := firstLine(s.Message); l != "" && !slices.Contains(lines, l) {
			lines = append(lines, l)
		}
	}
	msg := strings.Join(lines, " | ")
	if len(failed) > 1 {
		msg = fmt.Sprintf("%d of %d specs failed: %s", len(failed), len(q.Specs), msg)
	}
	return msg
}

// failureText is everything needed to act on the failure without the HTML
// page: each failed spec with its full message, the exchanges and the logs,
// and the command that reruns it.
func failureText(r *Report, q Requirement) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s\nsource: %s\n", q.Level, q.ID, q.Text, q.Source)
	for _, s := range q.failedSpecs() {
		fmt.Fprintf(&b, "\n--- %s\n", s.Spec)
		if s.Fixture != "" || s.Shape != "" {
			fmt.Fprintf(&b, "fixture: %s  shape: %s\n", orDash(s.Fixture), orDash(s.Shape))
		}
		b.WriteString(strings.TrimRight(s.Message, "\n"))
		b.WriteString("\n")
		for i, e := range s.Exchanges {
			fmt.Fprintf(&b, "\nexchange %d:\n%s\n", i+1, strings.TrimRight(e, "\n"))
		}
		if s.Logs != "" {
			fmt.Fprintf(&b, "\nadapter logs:\n%s\n", strings.TrimRight(s.Logs, "\n"))
		}
	}
	fmt.Fprintf(&b, "\nrerun: %s\n", r.RerunCommand(q.ID))
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// area groups requirements under their SPEC.md section, in SPEC order.
type area struct {
	Area         string
	Title        string
	Requirements []Requirement
}

func (r *Report) areas() []area {
	var out []area
	for _, q := range r.Requirements {
		if len(out) == 0 || out[len(out)-1].Area != q.Area {
			out = append(out, area{Area: q.Area, Title: q.AreaTitle})
		}
		out[len(out)-1].Requirements = append(out[len(out)-1].Requirements, q)
	}
	return out
}
