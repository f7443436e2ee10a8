// Package coexist checks that suite.Run refuses to run in a test binary that
// already has ginkgo specs of its own, instead of silently wiping them.
package coexist_test

import (
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"

	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/fetch"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

var _ = Describe("a user's own spec", func() {
	It("exists", func() {})
})

func TestRunRefusesNextToForeignSpecs(t *testing.T) {
	_, err := suite.Run(nil, runner.InProcess(fetch.Name, fetch.Integration()), suite.Quiet())
	if err == nil || !strings.Contains(err.Error(), "_test package") {
		t.Fatalf("suite.Run next to foreign specs: err = %v, want a refusal that says to use a _test package of its own", err)
	}
	// The user's spec must still be there.
	if n := len(PreviewSpecs("after").SpecReports); n == 0 {
		t.Fatal("the user's specs were wiped")
	}
}
