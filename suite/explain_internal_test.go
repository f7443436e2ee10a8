package suite

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/broken"
	"github.com/adapterconformance/adapter-conformance/runner"
)

// TestFailureMessagesNameTheirSpecsRequirement: no check names its
// requirement; explain and the helpers built on it take it from the running
// spec, which spec registered under its ID. So a failure message starts
// with the requirement of the spec that failed: its ID, level and text,
// then what was expected. The broken adapters chosen fail through each
// kind of message: explain and followsFrom (b12: NOTFOUND-1, then EXPORT-4,
// which names NOTFOUND-1 as its likely cause but is filed under its own
// ID), explainRaw (NOTFOUND-6), explainDecl (DECL-3, DECL-7) and explainInv
// (LAMBDA-2, LAMBDA-13).
func TestFailureMessagesNameTheirSpecsRequirement(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite for three broken adapters")
	}
	for _, c := range []struct {
		adapter string
		focus   []string
	}{
		{"b12-notfound-200", []string{"NOTFOUND-1", "NOTFOUND-6", "EXPORT-4"}},
		{"no-entrypoint", []string{"DECL-3", "DECL-7"}},
		{"b05-lambda-v1-cookies-field", []string{"LAMBDA-2", "LAMBDA-13"}},
	} {
		t.Run(c.adapter, func(t *testing.T) {
			i := slices.IndexFunc(broken.All(), func(b broken.Adapter) bool { return b.Name == c.adapter })
			if i < 0 {
				t.Fatalf("no broken adapter %s", c.adapter)
			}
			b := broken.All()[i]
			res, err := Run(nil, runner.InProcess(b.Name, b.Integration, runner.WithReadinessTimeout(time.Second)),
				Quiet(), Fixtures("basic"), Focus(c.focus...))
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Failed(); !slices.Equal(got, slices.Sorted(slices.Values(c.focus))) {
				t.Fatalf("failed %q, want %q", got, c.focus)
			}
			for _, o := range res.Outcomes {
				if o.State != Failed {
					continue
				}
				req, ok := RequirementByID(o.Requirement)
				if !ok {
					t.Fatalf("%s failed, but SPEC.md has no such requirement", o.Requirement)
				}
				want := fmt.Sprintf("%s (%s): %s\nexpected: ", req.ID, req.Level, req.Text)
				if !strings.HasPrefix(withoutAsyncPreamble(o.Message), want) {
					t.Errorf("%s failed in %q with a message that does not start with %q:\n%s", o.Requirement, o.Spec, want, o.Message)
				}
			}
		})
	}
}

// asyncPreamble is the line gomega's Eventually and Consistently put before
// the description of a failure: "Timed out after 1.001s.", "Failed after
// 0.001s.", "Context was cancelled after ...".
var asyncPreamble = regexp.MustCompile(`^(Timed out|Failed|Context was cancelled)[^\n]* after [0-9]+\.[0-9]{3}s\.\n`)

// withoutAsyncPreamble is a failure message without asyncPreamble: what
// explain built, for a check made with Eventually or Consistently too.
func withoutAsyncPreamble(msg string) string { return asyncPreamble.ReplaceAllString(msg, "") }

// WithoutAsyncPreamble is withoutAsyncPreamble for the external tests.
var WithoutAsyncPreamble = withoutAsyncPreamble
