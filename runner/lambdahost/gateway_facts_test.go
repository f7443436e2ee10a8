package lambdahost_test

import (
	"encoding/json"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner/lambdahost"
)

// TestGatewayFacts shows that the emulated gateways do what
// ../shared/reference/aws-gateway-facts.md records AWS doing, one subtest a
// row of its table and of SPEC.md's gateway rules, each named after its
// source. A change to the emulator that contradicts a capture fails here.
func TestGatewayFacts(t *testing.T) {
	build := func(t *testing.T, shape app.HostShape, target string, o lambdahost.EventOptions, headers ...string) []byte {
		t.Helper()
		r := httptest.NewRequest("GET", target, nil)
		for i := 0; i+1 < len(headers); i += 2 {
			r.Header.Add(headers[i], headers[i+1])
		}
		raw, err := lambdahost.BuildEvent(shape, r, nil, "id", o)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	v2 := func(t *testing.T, target string, o lambdahost.EventOptions, headers ...string) events.APIGatewayV2HTTPRequest {
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(build(t, app.ShapeLambdaV2, target, o, headers...), &ev); err != nil {
			t.Fatal(err)
		}
		return ev
	}
	furl := func(t *testing.T, target string, headers ...string) events.LambdaFunctionURLRequest {
		var ev events.LambdaFunctionURLRequest
		if err := json.Unmarshal(build(t, app.ShapeFunctionURL, target, lambdahost.EventOptions{}, headers...), &ev); err != nil {
			t.Fatal(err)
		}
		return ev
	}
	v1 := func(t *testing.T, target string, o lambdahost.EventOptions, headers ...string) events.APIGatewayProxyRequest {
		var ev events.APIGatewayProxyRequest
		if err := json.Unmarshal(build(t, app.ShapeLambdaV1, target, o, headers...), &ev); err != nil {
			t.Fatal(err)
		}
		return ev
	}
	eq := func(t *testing.T, what string, got, want any) {
		t.Helper()
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if string(gj) != string(wj) {
			t.Errorf("%s = %s, want %s", what, gj, wj)
		}
	}

	t.Run("HTTP API rawPath and http.path arrive decoded (voker capture)", func(t *testing.T) {
		ev := v2(t, "/capture/space%20value/a%2Fb", lambdahost.EventOptions{})
		eq(t, "rawPath", ev.RawPath, "/capture/space value/a/b")
		eq(t, "requestContext.http.path", ev.RequestContext.HTTP.Path, "/capture/space value/a/b")
	})
	t.Run("HTTP API on a named stage prefixes it, $default does not (aws-lambda-rust-runtime#668)", func(t *testing.T) {
		ev := v2(t, "/auth/login", lambdahost.EventOptions{Stage: "Prod"})
		eq(t, "rawPath", ev.RawPath, "/Prod/auth/login")
		eq(t, "requestContext.http.path", ev.RequestContext.HTTP.Path, "/Prod/auth/login")
		eq(t, "stage", ev.RequestContext.Stage, "Prod")
		ev = v2(t, "/auth/login", lambdahost.EventOptions{})
		eq(t, "$default rawPath", ev.RawPath, "/auth/login")
		eq(t, "$default stage", ev.RequestContext.Stage, "$default")
	})
	t.Run("REST path encoded and without the stage, requestContext.path with it (localstack snapshot, voker capture)", func(t *testing.T) {
		ev := v1(t, "/capture/space%20value/", lambdahost.EventOptions{Stage: "live"})
		eq(t, "path", ev.Path, "/capture/space%20value/")
		eq(t, "requestContext.path", ev.RequestContext.Path, "/live/capture/space%20value/")
		eq(t, "resource", ev.Resource, "/{proxy+}")
		eq(t, "pathParameters", ev.PathParameters, map[string]string{"proxy": "capture/space%20value"})
		eq(t, "stage", ev.RequestContext.Stage, "live")
		// A REST API has no $default stage.
		eq(t, "default stage", v1(t, "/", lambdahost.EventOptions{}).RequestContext.Stage, lambdahost.DefaultRESTStage)
	})
	t.Run("REST leading double slash collapses in path, stays in requestContext.path (localstack snapshot)", func(t *testing.T) {
		ev := v1(t, "//proxy-value", lambdahost.EventOptions{Stage: "stage"})
		eq(t, "path", ev.Path, "/proxy-value")
		eq(t, "requestContext.path", ev.RequestContext.Path, "/stage//proxy-value")
		ev = v1(t, "/a//b", lambdahost.EventOptions{Stage: "stage"})
		eq(t, "inner // path", ev.Path, "/a//b")
	})
	t.Run("REST on a custom domain: path and requestContext.path carry the base-path mapping (GREsau's gist)", func(t *testing.T) {
		ev := v1(t, "/foo/bar/", lambdahost.EventOptions{Stage: "prod", CustomDomain: "api.example.test", BasePath: "/echo"})
		eq(t, "path", ev.Path, "/echo/foo/bar/")
		eq(t, "requestContext.path", ev.RequestContext.Path, "/echo/foo/bar/")
		eq(t, "domainName", ev.RequestContext.DomainName, "api.example.test")
	})
	t.Run("Function URL rawPath encoded, http.path decoded, no stage (voker capture)", func(t *testing.T) {
		ev := furl(t, "/capture/space%20value")
		eq(t, "rawPath", ev.RawPath, "/capture/space%20value")
		eq(t, "requestContext.http.path", ev.RequestContext.HTTP.Path, "/capture/space value")
	})
	t.Run("query: rawQueryString as sent, parameters decoded, + as space, empty kept, repeated joined (voker)", func(t *testing.T) {
		const q = "redirect=https%3A%2F%2Fexample.com%2Fa%2Fb&literalPlus=a+b&encodedPlus=a%2Bb&empty=&k=one&k=two"
		ev := v2(t, "/q?"+q, lambdahost.EventOptions{})
		eq(t, "rawQueryString", ev.RawQueryString, q)
		eq(t, "queryStringParameters", ev.QueryStringParameters, map[string]string{
			"redirect": "https://example.com/a/b", "literalPlus": "a b", "encodedPlus": "a+b", "empty": "", "k": "one,two"})
		rest := v1(t, "/q?"+q, lambdahost.EventOptions{})
		eq(t, "v1 queryStringParameters k", rest.QueryStringParameters["k"], "two")
		eq(t, "v1 multiValueQueryStringParameters k", rest.MultiValueQueryStringParameters["k"], []string{"one", "two"})
	})
	t.Run("request headers: repeated values joined with a plain comma (2.0), last value wins in v1 headers (voker)", func(t *testing.T) {
		ev := v2(t, "/", lambdahost.EventOptions{}, "X-Voker-Probe", "first", "X-Voker-Probe", "second")
		eq(t, "x-voker-probe", ev.Headers["x-voker-probe"], "first,second")
		eq(t, "Function URL x-voker-probe", furl(t, "/", "X-Voker-Probe", "first", "X-Voker-Probe", "second").Headers["x-voker-probe"], "first,second")
		rest := v1(t, "/", lambdahost.EventOptions{}, "X-Voker-Probe", "first", "X-Voker-Probe", "second")
		eq(t, "v1 headers", rest.Headers["X-Voker-Probe"], "second")
		eq(t, "v1 multiValueHeaders", rest.MultiValueHeaders["X-Voker-Probe"], []string{"first", "second"})
	})
	t.Run("cookies: HTTP API moves Cookie into cookies[], a Function URL keeps the header too (voker)", func(t *testing.T) {
		ev := v2(t, "/", lambdahost.EventOptions{}, "Cookie", "session=abc123; theme=dark")
		eq(t, "cookies", ev.Cookies, []string{"session=abc123", "theme=dark"})
		if _, ok := ev.Headers["cookie"]; ok {
			t.Errorf("an HTTP API drops the cookie header: %v", ev.Headers)
		}
		fe := furl(t, "/", "Cookie", "session=abc123; theme=dark")
		eq(t, "Function URL cookies", fe.Cookies, []string{"session=abc123", "theme=dark"})
		eq(t, "Function URL cookie header", fe.Headers["cookie"], "session=abc123; theme=dark")
	})
	t.Run("REST response: headers and multiValueHeaders merged, a pair in both once (AWS REST proxy output docs)", func(t *testing.T) {
		_, h, _, problem := lambdahost.TranslateResponse(app.ShapeLambdaV1, []byte(
			`{"statusCode":200,"headers":{"X-A":"single","X-B":"same"},"multiValueHeaders":{"X-A":["m1","m2"],"X-B":["same","other"]},"body":""}`))
		if problem != "" {
			t.Fatal(problem)
		}
		if got := h.Values("X-A"); !slices.Contains(got, "single") || !slices.Contains(got, "m1") || !slices.Contains(got, "m2") || len(got) != 3 {
			t.Errorf("X-A = %q, want single, m1 and m2", got)
		}
		eq(t, "X-B", h.Values("X-B"), []string{"same", "other"})
	})
	t.Run("2.0 response: no multiValueHeaders, each cookies[] element one Set-Cookie, no statusCode is a 200 JSON body (AWS HTTP API docs)", func(t *testing.T) {
		for _, shape := range []app.HostShape{app.ShapeLambdaV2, app.ShapeFunctionURL} {
			status, h, _, problem := lambdahost.TranslateResponse(shape, []byte(
				`{"statusCode":200,"headers":{"x-a":"1"},"multiValueHeaders":{"X-M":["a","b"]},"cookies":["a=1; Path=/","b=2"],"body":""}`))
			if problem != "" || status != 200 {
				t.Fatal(status, problem)
			}
			eq(t, string(shape)+" Set-Cookie", h.Values("Set-Cookie"), []string{"a=1; Path=/", "b=2"})
			eq(t, string(shape)+" X-M", h.Values("X-M"), []string(nil))
			status, h, body, _ := lambdahost.TranslateResponse(shape, []byte(`{"hello":"world"}`))
			eq(t, string(shape)+" bare JSON", []any{status, h.Get("Content-Type"), string(body)}, []any{200, "application/json", `{"hello":"world"}`})
		}
	})
}
