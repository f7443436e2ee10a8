// Package standalonetest shows suite.Test in a _test package of its own: the
// recommended way to gate an adapter's CI on the kit from `go test`.
package standalonetest_test

import (
	"testing"

	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/standalone"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

func TestConformance(t *testing.T) {
	res := suite.Test(t, runner.InProcess(standalone.Name, standalone.Integration()), suite.Quiet())
	if len(res.Passed()) == 0 {
		t.Fatal("no requirement passed")
	}
}
