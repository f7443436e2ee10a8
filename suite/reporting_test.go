package suite_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/fetch"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

// TestReportDirNeedsReports: this test binary does not link package
// reports, so a run asked for report files stops before any spec runs and
// names the import, rather than running and writing nothing.
func TestReportDirNeedsReports(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	for _, opt := range []suite.Option{suite.ReportDir(dir), suite.Baseline(filepath.Join(dir, "baseline.json"))} {
		_, err := suite.Run(nil, runner.InProcess(fetch.Name, fetch.Integration()), opt, suite.Quiet())
		if err == nil || !strings.Contains(err.Error(), `import _ "github.com/adapterconformance/adapter-conformance/reports"`) {
			t.Errorf("err %v, want one naming the reports import", err)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the report dir was created anyway: %v", err)
	}
}
