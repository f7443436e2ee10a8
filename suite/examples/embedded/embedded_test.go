// Package embedded shows suite.Register inside an adapter author's own
// ginkgo suite: the kit's specs run next to the author's, in one RunSpecs.
package embedded_test

import (
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/fetch"
	"github.com/adapterconformance/adapter-conformance/reports"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

var results = &suite.Results{}

// reportDir gets the kit's report files (report.json, junit.xml,
// report.html, summary.md), written after the suite: importing reports is
// what lets suite.ReportDir write them.
var reportDir = func() string {
	d, err := os.MkdirTemp("", "embedded-report-")
	if err != nil {
		panic(err)
	}
	return filepath.Join(d, "out")
}()

var _ = Describe("my adapter's own specs", func() {
	It("still run", func() { Expect(fetch.Name).NotTo(BeEmpty()) })
})

var _ = suite.Register(runner.InProcess(fetch.Name, fetch.Integration()),
	suite.Fixtures("basic"), suite.CollectInto(results), suite.ReportDir(reportDir))

func TestEmbedded(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "my adapter")
	defer os.RemoveAll(filepath.Dir(reportDir))
	r, err := reports.Read(filepath.Join(reportDir, reports.JSONFile))
	if err != nil {
		t.Fatalf("suite.Register with suite.ReportDir wrote no report: %v", err)
	}
	if r.Summary.Verdict != reports.VerdictPass || r.Summary.Passed != len(results.Passed()) {
		t.Errorf("report summary %+v, want pass with %d passed", r.Summary, len(results.Passed()))
	}
	for _, f := range []string{reports.JUnitFile, reports.HTMLFile, reports.MarkdownFile} {
		if _, err := os.Stat(filepath.Join(reportDir, f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(reportDir, reports.LockFile)); !os.IsNotExist(err) {
		t.Errorf("the lock file was left behind: %v", err)
	}
	if len(results.Passed()) == 0 {
		t.Error("the kit's specs did not run inside the user's suite")
	}
	if failed := results.Failed(); len(failed) > 0 {
		t.Errorf("requirements failed: %v", failed)
	}
}
