package runner_test

import (
	"context"
	"errors"
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
	goodlambda "github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/lambda"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/runner/contract"
	"github.com/adapterconformance/adapter-conformance/runner/lambdahost"
	"github.com/adapterconformance/adapter-conformance/runner/ownership"
)

func TestClassifyLambdaHandlers(t *testing.T) {
	var nilV2 func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
	for _, c := range []struct {
		name  string
		v     any
		shape app.HostShape
		why   bool
	}{
		{"v1", func(events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{}, nil
		}, app.ShapeLambdaV1, false},
		{"v2 with context", func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{}, nil
		}, app.ShapeLambdaV2, false},
		{"function URL by pointer", func(context.Context, *events.LambdaFunctionURLRequest) (*events.LambdaFunctionURLResponse, error) {
			return nil, nil
		}, app.ShapeFunctionURL, false},
		{"error only", func(context.Context, events.LambdaFunctionURLRequest) error { return nil }, app.ShapeFunctionURL, false},
		{"nil", nilV2, "", true},
		{"three arguments", func(context.Context, int, events.APIGatewayV2HTTPRequest) error { return nil }, "", true},
		{"no error", func(events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
			return events.APIGatewayV2HTTPResponse{}
		}, "", true},
		{"other event", func(context.Context, events.SQSEvent) error { return nil }, "", true},
	} {
		shape, _, why := contract.Classify(c.v)
		if shape != c.shape || (why != "") != c.why {
			t.Errorf("%s: Classify = %q, %q; want %q (reason: %v)", c.name, shape, why, c.shape, c.why)
		}
	}
}

func TestInProcessLambdaTarget(t *testing.T) {
	m, err := fixtures.Load("basic")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		integration app.Integration
		shape       app.HostShape
	}{{goodlambda.IntegrationV1(), app.ShapeLambdaV1}, {goodlambda.IntegrationV2(), app.ShapeLambdaV2}, {goodlambda.IntegrationFunctionURL(), app.ShapeFunctionURL}} {
		inst, err := runner.InProcess("lambda", c.integration).Start(context.Background(), m)
		if err != nil {
			t.Fatal(err)
		}
		h := inst.Host(c.shape)
		if h == nil || h.Gateway == nil || len(inst.Unsupported) > 0 {
			t.Fatalf("%s: host %v, unsupported %v", c.shape, h, inst.Unsupported)
		}
		resp, err := http.Get(h.URL + "/api/cookies")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || len(resp.Header.Values("Set-Cookie")) != 5 {
			t.Errorf("%s: %d, Set-Cookie %q", c.shape, resp.StatusCode, resp.Header.Values("Set-Cookie"))
		}
		inst.Stop(context.Background())
		// Stop closes the gateway's server: the host no longer answers.
		if resp, err := http.Get(h.URL + "/api/cookies"); err == nil {
			resp.Body.Close()
			t.Errorf("%s: the gateway still answers after Stop (%d)", c.shape, resp.StatusCode)
		}
	}
}

// TestLambdaRuntimeHelper is not a test: it is the runtime process of the
// Runtime API tests, in the mode LAMBDA_RUNTIME_HELPER names.
func TestLambdaRuntimeHelper(t *testing.T) {
	switch os.Getenv("LAMBDA_RUNTIME_HELPER") {
	case "":
		t.Skip("runs only as a runtime process of the Runtime API tests")
	case "never-next":
		time.Sleep(time.Hour)
	case "hang-once":
		// The first invocation ever hangs; the environment must be ended
		// for the next one to be answered, by a fresh process (a marker in
		// the working directory, which cold starts share, says it hung).
		awslambda.Start(func(ctx context.Context, e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			if _, err := os.Stat("hung"); err != nil {
				os.WriteFile("hung", nil, 0o600)
				select {}
			}
			return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "fresh"}, nil
		})
	case "stream-hang-once":
		// hang-once in response streaming mode: the first stream sends a
		// chunk and never ends.
		awslambda.Start(func(ctx context.Context, e events.LambdaFunctionURLRequest) (*events.LambdaFunctionURLStreamingResponse, error) {
			if _, err := os.Stat("hung"); err != nil {
				os.WriteFile("hung", nil, 0o600)
				pr, pw := io.Pipe()
				go pw.Write([]byte("first\n"))
				return &events.LambdaFunctionURLStreamingResponse{StatusCode: 200, Body: pr}, nil
			}
			return &events.LambdaFunctionURLStreamingResponse{StatusCode: 200, Body: strings.NewReader("fresh")}, nil
		})
	case "always-error":
		awslambda.Start(func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{}, errors.New("this function cannot handle anything")
		})
	}
	os.Exit(0)
}

func startHelperRuntime(t *testing.T, mode string) (*runner.Instance, *runner.Host) {
	return startHelperRuntimeAs(t, app.ShapeLambdaV2, mode)
}

func startHelperRuntimeAs(t *testing.T, shape app.HostShape, mode string) (*runner.Instance, *runner.Host) {
	t.Helper()
	in := &runner.Instance{}
	h, err := runner.StartLambdaRuntime(context.Background(), in, shape, os.Args[0], []string{"-test.run=^TestLambdaRuntimeHelper$"},
		[]string{"LAMBDA_RUNTIME_HELPER=" + mode}, time.Second, time.Second)
	if err != nil {
		in.Stop(context.Background())
		t.Fatal(err)
	}
	return in, h
}

func expectNoLambdaLeftovers(t *testing.T) {
	t.Helper()
	if left := ownership.Leftovers(); len(left) > 0 {
		t.Errorf("process groups left running: %v", left)
	}
}

// TestLambdaRuntimeNeverPolls: a runtime that never asks for an invocation
// is reported at start and fails each invocation within its deadline, and
// stopping it leaves nothing running.
func TestLambdaRuntimeNeverPolls(t *testing.T) {
	in, h := startHelperRuntime(t, "never-next")
	if h.StartError == nil || !strings.Contains(h.StartError.Error(), "never asked for an invocation") {
		t.Errorf("StartError = %v", h.StartError)
	}
	start := time.Now()
	req, _ := http.NewRequest("GET", h.URL+"/about", nil)
	req.Header.Set(lambdahost.RequestIDHeader, "never-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the invocation took %s; the deadline is 1s", took)
	}
	invs := h.Gateway.For("never-1")
	if resp.StatusCode != http.StatusGatewayTimeout || len(invs) != 1 || invs[0].Outcome != lambdahost.OutcomeTimeout ||
		!strings.Contains(invs[0].Detail, "never asked for the invocation") {
		t.Errorf("status %d, invocations %+v", resp.StatusCode, invs)
	}
	in.Stop(context.Background())
	expectNoLambdaLeftovers(t)
}

// TestLambdaRuntimeTimeoutEndsEnvironment: an invocation the runtime took
// but did not answer (or whose stream did not end) within its deadline ends
// its execution environment, as in Lambda, so the next invocation gets a
// cold start instead of waiting on a runtime that is still busy. A stream
// whose client left is drained until the deadline, then ended the same way.
func TestLambdaRuntimeTimeoutEndsEnvironment(t *testing.T) {
	for _, c := range []struct {
		name, mode   string
		shape        app.HostShape
		firstStatus  int
		clientLeaves bool
	}{
		{"buffered", "hang-once", app.ShapeLambdaV2, http.StatusGatewayTimeout, false},
		{"streaming", "stream-hang-once", app.ShapeFunctionURL, http.StatusOK, false},
		{"streaming, client leaves", "stream-hang-once", app.ShapeFunctionURL, http.StatusOK, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			in, h := startHelperRuntimeAs(t, c.shape, c.mode)
			defer in.Stop(context.Background())
			if h.StartError != nil {
				t.Fatal(h.StartError)
			}
			get := func(id string) *http.Response {
				req, _ := http.NewRequest("GET", h.URL+"/about", nil)
				req.Header.Set(lambdahost.RequestIDHeader, id)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				return resp
			}
			first := get("hang-0")
			if first.StatusCode != c.firstStatus {
				t.Fatalf("first request: status %d, want %d; runtime output:\n%s", first.StatusCode, c.firstStatus, h.Logs())
			}
			if c.clientLeaves {
				chunk := make([]byte, len("first\n"))
				if _, err := io.ReadFull(first.Body, chunk); err != nil {
					t.Fatal(err)
				}
			} else if body, err := io.ReadAll(first.Body); c.firstStatus == http.StatusOK && err == nil {
				t.Errorf("the hung stream ended cleanly (%q): it should be cut at the deadline", body)
			}
			first.Body.Close()
			const ended = "timed out; the kit ended this execution environment"
			deadline := time.Now().Add(10 * time.Second)
			for !strings.Contains(h.Logs(), ended) {
				if time.Now().After(deadline) {
					t.Fatalf("the logs do not say the environment was ended:\n%s", h.Logs())
				}
				time.Sleep(20 * time.Millisecond)
			}
			second := get("hang-1")
			body, _ := io.ReadAll(second.Body)
			second.Body.Close()
			if second.StatusCode != http.StatusOK || string(body) != "fresh" {
				t.Fatalf("second request: %d %q, want 200 from a fresh environment; runtime output:\n%s", second.StatusCode, body, h.Logs())
			}
			in.Stop(context.Background())
			expectNoLambdaLeftovers(t)
		})
	}
}

// TestLambdaRuntimeErrorPosts: a runtime that posts every invocation to
// /error gets 202 each time and keeps polling; the gateway answers 502 with
// the error recorded.
func TestLambdaRuntimeErrorPosts(t *testing.T) {
	in, h := startHelperRuntime(t, "always-error")
	if h.StartError != nil {
		t.Fatal(h.StartError)
	}
	api := h.Runtime
	for i := range 3 {
		id := fmt.Sprintf("err-%d", i)
		req, _ := http.NewRequest("GET", h.URL+"/about", nil)
		req.Header.Set(lambdahost.RequestIDHeader, id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		invs := h.Gateway.For(id)
		if resp.StatusCode != http.StatusBadGateway || len(invs) != 1 || invs[0].Outcome != lambdahost.OutcomeFunctionError ||
			!strings.Contains(invs[0].FunctionError, "this function cannot handle anything") {
			t.Errorf("%s: status %d, invocations %+v", id, resp.StatusCode, invs)
		}
		calls := api.CallsFor(id)
		if len(calls) != 2 || !strings.HasSuffix(calls[1].Path, "/"+id+"/error") || calls[1].Status != http.StatusAccepted {
			t.Errorf("%s: Runtime API calls %+v, want GET next then POST error answered 202", id, calls)
		}
	}
	// The error post of an unknown id is refused.
	resp, err := http.Post("http://"+api.Addr+lambdahost.RuntimeAPIVersion+"/runtime/invocation/nope/error", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown request id: %d, want 400", resp.StatusCode)
	}
	in.Stop(context.Background())
	expectNoLambdaLeftovers(t)
}

// TestLambdaGatewayStreams: a Function URL handler in response streaming
// mode is streamed to the client, each read flushed, with the prelude's
// status, headers and cookies; without a client the body is read in full,
