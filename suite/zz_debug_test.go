package suite_test

import (
	"fmt"
	"testing"

	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

func TestZZDebug(t *testing.T) {
	res, _ := suite.Run(nil, runner.LambdaBinary(adapterDir("good", "lambda", "cmd", "lambda-v2")), suite.Quiet(), suite.Fixtures("basic"))
	fmt.Println("passed", res.Passed())
	for _, o := range res.Outcomes {
		if o.State == "skipped" {
			fmt.Println("skipped", o.Requirement, o.Shape, o.Message)
		}
	}
	res, _ = suite.Run(nil, helperRuntime{"never-next"}, suite.Quiet(), suite.Fixtures("basic"))
	fmt.Println("never-next failed", res.Failed())
	for _, m := range res.Messages("LAMBDA-14") {
		fmt.Println(m)
	}
	for _, o := range res.Outcomes {
		if o.State == "skipped" && o.Shape == "lambda-v2" {
			fmt.Println("skipped", o.Requirement, o.Message)
			break
		}
	}
}
