package runner_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	awslambda "github.com/aws/aws-lambda-go/lambda"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/fixtures"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/runner/contract"
	"github.com/adapterconformance/adapter-conformance/runner/lambdahost"
)

// invokeFunc is a lambda.Handler that is not aws-lambda-go's own.
type invokeFunc func(context.Context, []byte) ([]byte, error)

func (f invokeFunc) Invoke(ctx context.Context, b []byte) ([]byte, error) { return f(ctx, b) }

// TestClassifyUntypedLambdaHandlers: a lambda.Handler, or a handler
// function whose event type does not name a gateway, serves the one Lambda
// shape the adapter declares; a handler for another trigger, or one with
// no declared Lambda shape to serve, is not drivable.
func TestClassifyUntypedLambdaHandlers(t *testing.T) {
	typedV2 := func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{}, nil
	}
	var nilHandler invokeFunc
	v2 := []app.HostShape{app.ShapeLambdaV2}
	for _, c := range []struct {
		name     string
		v        any
		declared []app.HostShape
		shape    app.HostShape
	}{
		{"lambda.NewHandler", awslambda.NewHandler(typedV2), v2, app.ShapeLambdaV2},
		{"own lambda.Handler", invokeFunc(func(context.Context, []byte) ([]byte, error) { return nil, nil }), []app.HostShape{app.ShapeFunctionURL}, app.ShapeFunctionURL},
		{"json.RawMessage event", func(context.Context, json.RawMessage) (any, error) { return nil, nil }, []app.HostShape{app.ShapeLambdaV1}, app.ShapeLambdaV1},
		{"map event", func(map[string]any) (map[string]any, error) { return nil, nil }, v2, app.ShapeLambdaV2},
		{"typed event wins over the declaration", typedV2, []app.HostShape{app.ShapeLambdaV1}, app.ShapeLambdaV2},
		{"lambda.Handler with no Lambda shape declared", awslambda.NewHandler(typedV2), []app.HostShape{app.ShapeHandler}, ""},
		{"lambda.Handler with two Lambda shapes declared", awslambda.NewHandler(typedV2), []app.HostShape{app.ShapeLambdaV1, app.ShapeLambdaV2}, ""},
		{"nil lambda.Handler", nilHandler, v2, ""},
		{"other trigger", func(context.Context, events.SQSEvent) error { return nil }, v2, ""},
		{"not a handler", func(int, int) {}, v2, ""},
		{"interface event", func(context.Context, io.Reader) error { return nil }, v2, ""},
	} {
		shape, _, why := contract.ClassifyFor(c.v, c.declared)
		if shape != c.shape || (shape == "") != (why != "") {
			t.Errorf("%s: ClassifyFor = %q, %q; want %q", c.name, shape, why, c.shape)
		}
	}
	if shape, _, why := contract.Classify(awslambda.NewHandler(typedV2)); shape != "" || why == "" {
		t.Errorf("Classify of a lambda.Handler with no declaration = %q, %q; want a reason", shape, why)
	}
}

// TestInProcessLambdaHandlerExports: a bridge built with
// contract.BridgeIntegration whose export is a lambda.Handler runs behind
// the gateway of the declared shape; a panic in its glue is a crash (502),
// the test binary survives it, and the next invocation is answered.
func TestInProcessLambdaHandlerExports(t *testing.T) {
	m, err := fixtures.Load("basic")
	if err != nil {
		t.Fatal(err)
	}
	bridge := func(h http.Handler) any {
		return invokeFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
			var e events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(payload, &e); err != nil {
				return nil, err
			}
			if e.Headers["x-panic"] != "" {
				panic("glue panicked")
			}
			r, _ := http.NewRequestWithContext(ctx, e.RequestContext.HTTP.Method, "http://"+e.RequestContext.DomainName+e.RawPath, nil)
			rec := &recorder{header: http.Header{}}
			h.ServeHTTP(rec, r)
			return json.Marshal(events.APIGatewayV2HTTPResponse{StatusCode: rec.status, Body: rec.body.String(), Headers: map[string]string{"content-type": rec.header.Get("Content-Type")}})
		})
	}
	inst, err := runner.InProcess("bridge", contract.BridgeIntegration("bridge", app.ShapeLambdaV2, bridge)).Start(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Stop(context.Background())
	h := inst.Host(app.ShapeLambdaV2)
	if h == nil || len(inst.Unsupported) > 0 {
		t.Fatalf("host %v, unsupported %v", h, inst.Unsupported)
	}
	get := func(id string, hdr ...string) *http.Response {
		req, _ := http.NewRequest("GET", h.URL+"/about", nil)
		req.Header.Set(lambdahost.RequestIDHeader, id)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := get("ok-1"); resp.StatusCode != 200 {
		t.Fatalf("/about: %d", resp.StatusCode)
	}
	if resp := get("panic-1", "X-Panic", "1"); resp.StatusCode != http.StatusBadGateway {
		t.Errorf("panicking glue: %d, want 502", resp.StatusCode)
	}
	invs := h.Gateway.For("panic-1")
	if len(invs) != 1 || !invs[0].Crashed || !strings.Contains(invs[0].FunctionError, "glue panicked") {
		t.Errorf("panic invocation %+v, want a crash naming the panic", invs)
	}
	if resp := get("ok-2"); resp.StatusCode != 200 {
		t.Errorf("after the panic: %d, want 200", resp.StatusCode)
	}
}

type recorder struct {
	header http.Header
	status int
	body   strings.Builder
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(200)
	return r.body.Write(b)
}

// TestLambdaRuntimePanicIsACrash: under the Runtime API, lambda.Start
// reports a panic on /error and exits; the kit reports the invocation as a
// crash (502) and answers the next one from a new process (a cold start).
func TestLambdaRuntimePanicIsACrash(t *testing.T) {
	in := &runner.Instance{}
	h, err := runner.StartLambdaRuntime(context.Background(), in, app.ShapeLambdaV2, os.Args[0], []string{"-test.run=^TestLambdaExportsHelper$"},
		[]string{"LAMBDA_EXPORTS_HELPER=panic-on-header"}, 5*time.Second, 5*time.Second)
	defer in.Stop(context.Background())
	if err != nil || h.StartError != nil {
		t.Fatal(err, h.StartError)
	}
	g := h.Gateway
	for i, panics := range []bool{false, true, false} {
		id := fmt.Sprintf("inv-%d", i)
		req, _ := http.NewRequest("GET", h.URL+"/about", nil)
		req.Header.Set(lambdahost.RequestIDHeader, id)
		if panics {
			req.Header.Set("X-Panic", "1")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		invs := g.For(id)
		if len(invs) != 1 {
			t.Fatalf("%s: %d invocations", id, len(invs))
		}
		inv := invs[0]
		switch {
		case panics && (resp.StatusCode != http.StatusBadGateway || !inv.Crashed || !strings.Contains(inv.FunctionError, "helper panicked")):
			t.Errorf("%s: %d, crashed %v, error %q; want 502 and a crash", id, resp.StatusCode, inv.Crashed, inv.FunctionError)
		case !panics && (resp.StatusCode != http.StatusOK || inv.Crashed):
			t.Errorf("%s: %d, crashed %v; want 200\n%s", id, resp.StatusCode, inv.Crashed, h.Logs())
		}
	}
	if !strings.Contains(h.Logs(), "cold start") {
		t.Errorf("the logs do not show a cold start after the crash:\n%s", h.Logs())
	}
}

// TestLambdaExportsHelper is not a test: it is the runtime process of
// TestLambdaRuntimePanicIsACrash.
func TestLambdaExportsHelper(t *testing.T) {
	if os.Getenv("LAMBDA_EXPORTS_HELPER") != "panic-on-header" {
		t.Skip("runs only as a runtime process")
	}
	awslambda.Start(func(ctx context.Context, e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		if e.Headers["x-panic"] != "" {
			panic("helper panicked")
		}
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "ok"}, nil
	})
}
