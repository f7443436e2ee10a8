package reports_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/adapterconformance/adapter-conformance/reports"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

// TestNoReportFileHoldsAURLPassword plants a deployment's password in every
// place a report takes text from (the target, a message, an exchange, the
// adapter's logs, the reason a run could not happen, why it was cut short)
// and greps every file of both kinds of report set for it.
func TestNoReportFileHoldsAURLPassword(t *testing.T) {
	const secret = "s3cr3t-pa55"
	target := reports.Target{Name: "https://deploy:" + secret + "@preview.example.test", Mode: "url"}
	res := &suite.Results{CutShort: "stopped while GET https://deploy:" + secret + "@preview.example.test/about ran", Outcomes: []suite.Outcome{{
		Requirement: "RENDER-1", Spec: "x", State: "failed",
		Message:   `Get "https://deploy:` + secret + `@preview.example.test/": refused`,
		Exchanges: []string{"> GET https://token-" + secret + "@preview.example.test/ HTTP/1.1"},
		Logs:      "fetching upstream https://u:" + secret + "@upstream.test/x\n",
	}}}
	full, err := reports.New(target, []string{"basic"}, res)
	if err != nil {
		t.Fatal(err)
	}
	notRun, err := reports.NotRunReport(target, []string{"basic"}, errors.New("target https://deploy:"+secret+"@preview.example.test does not answer"))
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*reports.Report{"full": full, "not-run": notRun} {
		dir := t.TempDir()
		if err := r.WriteAll(dir); err != nil {
			t.Fatal(err)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		if len(files) != 4 {
			t.Fatalf("%s: wrote %v", name, files)
		}
		for _, f := range files {
			b, _ := os.ReadFile(f)
			if strings.Contains(string(b), secret) {
				t.Errorf("%s report: %s holds the password", name, filepath.Base(f))
			}
			if !strings.Contains(string(b), "preview.example.test") {
				t.Errorf("%s report: %s lost the host along with the password", name, filepath.Base(f))
			}
		}
	}
}

func TestRedactURLs(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:pw@host/x":              "https://user:xxxxx@host/x",
		"see http://tok@h:8080/a and ftp://a": "see http://xxxxx@h:8080/a and ftp://a",
		"mail me: a@b.example":                "mail me: a@b.example",
		"http://host/path@v2?q=a@b":           "http://host/path@v2?q=a@b",
		"http://host:8080/":                   "http://host:8080/",
	} {
		if got := runner.RedactURLs(in); got != want {
			t.Errorf("RedactURLs(%q) = %q, want %q", in, got, want)
		}
	}
}
