package suite_test

import (
	"testing"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/fetch"
	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/handler"
	goodlambda "github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/lambda"
	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/middleware"
	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/standalone"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

// goodAdapters are the positive controls: each must pass every requirement
// that applies to it.
var goodAdapters = []struct {
	name        string
	integration app.Integration
}{
	{standalone.Name, standalone.Integration()},
	{handler.Name, handler.Integration()},
	{middleware.Name, middleware.Integration()},
	{fetch.Name, fetch.Integration()},
	{goodlambda.NameV1, goodlambda.IntegrationV1()},
	{goodlambda.NameV2, goodlambda.IntegrationV2()},
	{goodlambda.NameFunctionURL, goodlambda.IntegrationFunctionURL()},
	{goodlambda.NameFunctionURLStreaming, goodlambda.IntegrationFunctionURLStreaming()},
}

func TestGoodAdaptersPassEverything(t *testing.T) {
	for _, g := range goodAdapters {
		t.Run(g.name, func(t *testing.T) {
			res, err := suite.Run(nil, runner.InProcess(g.name, g.integration), suite.Quiet())
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range res.Failed() {
				for _, msg := range res.Messages(id) {
					t.Errorf("%s failed:\n%s", id, msg)
				}
			}
			if len(res.Passed()) == 0 {
				t.Fatal("no requirement passed: the suite did not run")
			}
			t.Logf("%d requirements passed", len(res.Passed()))
		})
	}
}
