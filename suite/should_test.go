package suite_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/broken"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

// recordingT is the part of *testing.T that suite.Run uses.
type recordingT struct {
	failed bool
	logs   []string
}

func (r *recordingT) Fail() { r.failed = true }
func (r *recordingT) Logf(format string, a ...any) {
	r.logs = append(r.logs, fmt.Sprintf(format, a...))
}

func brokenTarget(t *testing.T, name string) runner.Target {
	t.Helper()
	return runner.InProcess(name, brokenIntegration(t, name))
}

func brokenIntegration(t *testing.T, name string) app.Integration {
	t.Helper()
	for _, b := range broken.All() {
		if b.Name == name {
			return b.Integration
		}
	}
	t.Fatalf("no broken adapter %s", name)
	return app.Integration{}
}

// TestFailedShouldWarns: SPEC.md gives a broken SHOULD a warning, not a
// failure. b31 fails only LAMBDA-7, a SHOULD: the Go test passes, with the
// warning logged, unless suite.Strict() is given; a failed MUST (b30,
// LAMBDA-6) fails it either way.
func TestFailedShouldWarns(t *testing.T) {
	focus := suite.Focus("LAMBDA-6", "LAMBDA-7")
	for _, c := range []struct {
		adapter        string
		strict         bool
		wantFail       bool
		blocking, warn []string
	}{
		{"b31-lambda-text-as-base64", false, false, nil, []string{"LAMBDA-7"}},
		{"b31-lambda-text-as-base64", true, true, []string{"LAMBDA-7"}, nil},
		{"b30-lambda-binary-as-text", false, true, []string{"LAMBDA-6"}, nil},
	} {
		t.Run(fmt.Sprintf("%s strict=%v", c.adapter, c.strict), func(t *testing.T) {
			opts := []suite.Option{suite.Quiet(), suite.Fixtures("basic"), focus}
			if c.strict {
				opts = append(opts, suite.Strict())
			}
			rec := &recordingT{}
			res, err := suite.Run(rec, brokenTarget(t, c.adapter), opts...)
			if err != nil {
				t.Fatal(err)
			}
			if rec.failed != c.wantFail {
				t.Errorf("the test failed: %v, want %v (failed %q)", rec.failed, c.wantFail, res.Failed())
			}
			if got := res.Blocking(); !slices.Equal(got, c.blocking) {
				t.Errorf("blocking %q, want %q", got, c.blocking)
			}
			if got := res.Warnings(); !slices.Equal(got, c.warn) {
				t.Errorf("warnings %q, want %q", got, c.warn)
			}
			logged := strings.Join(rec.logs, "\n")
			for _, id := range c.warn {
				if !strings.Contains(logged, "warning: SHOULD "+id+" failed") {
					t.Errorf("no warning logged for %s: %q", id, rec.logs)
				}
			}
			if len(c.warn) == 0 && strings.Contains(logged, "warning") {
				t.Errorf("a warning logged: %q", rec.logs)
			}
		})
	}
}
