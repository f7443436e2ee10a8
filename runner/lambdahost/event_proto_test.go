package lambdahost_test

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner/lambdahost"
)

// TestLambdaEventForwardedProto: every gateway sets X-Forwarded-Proto and
// X-Forwarded-Port itself (voker capture: https and 443 on AWS). The
// emulator reports https, as AWS does, with the Host's port (or 443), or
// the scheme a spec asks for, and the client's own values never reach the
// function.
func TestLambdaEventForwardedProto(t *testing.T) {
	for _, c := range []struct {
		host, proto       string
		wantProto, wantPt string
	}{
		{"127.0.0.1:4321", "", "https", "4321"},
		{"127.0.0.1:4321", "http", "http", "4321"},
		{"127.0.0.1:4321", "https", "https", "4321"},
		{"abc.execute-api.us-west-2.amazonaws.com", "https", "https", "443"},
		{"example.com", "", "https", "443"},
		{"example.com", "http", "http", "80"},
	} {
		r := httptest.NewRequest("POST", "/api/echo", nil)
		r.Host = c.host
		r.Header.Set("X-Forwarded-Proto", "gopher")
		r.Header.Set("X-Forwarded-Port", "1")
		for _, shape := range []app.HostShape{app.ShapeLambdaV1, app.ShapeLambdaV2, app.ShapeFunctionURL} {
			raw, err := lambdahost.BuildEvent(shape, r, nil, "id", lambdahost.EventOptions{Proto: c.proto})
			if err != nil {
				t.Fatal(err)
			}
			var proto, port string
			var multi []string
			switch shape {
			case app.ShapeLambdaV1:
				var ev events.APIGatewayProxyRequest
				json.Unmarshal(raw, &ev)
				proto, port, multi = ev.Headers["X-Forwarded-Proto"], ev.Headers["X-Forwarded-Port"], ev.MultiValueHeaders["X-Forwarded-Proto"]
			default:
				var ev events.APIGatewayV2HTTPRequest
				json.Unmarshal(raw, &ev)
				proto, port, multi = ev.Headers["x-forwarded-proto"], ev.Headers["x-forwarded-port"], []string{ev.Headers["x-forwarded-proto"]}
			}
			if proto != c.wantProto || port != c.wantPt || len(multi) != 1 || multi[0] != c.wantProto {
				t.Errorf("%s, Host %s, Proto %q: x-forwarded-proto %q (multi %q) port %q, want %s and %s\n%s", shape, c.host, c.proto, proto, multi, port, c.wantProto, c.wantPt, raw)
			}
		}
	}
}
