// Package embedded shows suite.Register inside an adapter author's own
// ginkgo suite: the kit's specs run next to the author's, in one RunSpecs.
package embedded_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/fetch"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

var results = &suite.Results{}

var _ = Describe("my adapter's own specs", func() {
	It("still run", func() { Expect(fetch.Name).NotTo(BeEmpty()) })
})

var _ = suite.Register(runner.InProcess(fetch.Name, fetch.Integration()),
	suite.Fixtures("basic"), suite.CollectInto(results))

func TestEmbedded(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "my adapter")
	if len(results.Passed()) == 0 {
		t.Error("the kit's specs did not run inside the user's suite")
	}
	if failed := results.Failed(); len(failed) > 0 {
		t.Errorf("requirements failed: %v", failed)
	}
}
