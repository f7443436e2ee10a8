package suite_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/adapterconformance/adapter-conformance/app"
	goodlambda "github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/lambda"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

// TestLambdaAssumingHTTPSPasses: AWS's gateways are HTTPS only and always
// say https in X-Forwarded-Proto (aws-gateway-facts, voker capture), so a
// Lambda adapter that takes https for granted, never reading the header, is
// right on AWS. It is a positive control: the emulator reports https as AWS
// does, the kit's client sends an https Origin, and nothing fails. (With the
// emulator reporting http, as it once did, this adapter failed LAMBDA-19,
// HTTP-22 and DIFF-1.)
func TestLambdaAssumingHTTPSPasses(t *testing.T) {
	name := "good-lambda-v2-assumes-https"
	integration := goodlambda.Integration(name, app.ShapeLambdaV2, func(a *app.App) any {
		return func(ctx context.Context, e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			r, err := goodlambda.RequestV2(ctx, e)
			if err != nil {
				return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusBadRequest}, nil
			}
			r.TLS = &tls.ConnectionState{}
			return goodlambda.ResponseV2(a.Render(r, goodlambda.RenderOptions(e.RequestContext.HTTP.SourceIP)...))
		}
	})
	res, err := suite.Run(nil, runner.InProcess(name, integration), suite.Quiet(), suite.Fixtures("basic"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range res.Failed() {
		for _, msg := range res.Messages(id) {
			t.Errorf("%s failed:\n%s", id, msg)
		}
	}
	for _, id := range []string{"LAMBDA-19", "HTTP-22", "DIFF-1"} {
		if !slices.Contains(res.Passed(), id) {
			t.Errorf("%s did not pass (passed: %q)", id, res.Passed())
		}
	}
}
