package suite_test

import (
	"fmt"
	"os"
	"testing"

	goodlambda "github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/lambda"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

func TestZZDebug(t *testing.T) {
	integ := map[string]func() any{}
	_ = integ
	which := os.Getenv("ZZ")
	ig := goodlambda.IntegrationV2()
	switch which {
	case "v1":
		ig = goodlambda.IntegrationV1()
	case "furl":
		ig = goodlambda.IntegrationFunctionURL()
	}
	res, err := suite.Run(nil, runner.InProcess("dbg", ig), suite.Quiet())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Outcomes {
		if o.Shape != "" && o.Shape != "lambda-v1" && o.Shape != "lambda-v2" && o.Shape != "function-url" {
			continue
		}
		m := o.Message
		if len(m) > 150 {
			m = m[:150]
		}
		fmt.Printf("%-12s %-15s %-12s %s\n", o.Requirement, o.State, o.Fixture, m)
	}
}
