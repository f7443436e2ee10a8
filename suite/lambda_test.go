package suite_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	awslambda "github.com/aws/aws-lambda-go/lambda"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/fixtures"
	goodlambda "github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/lambda"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/runner/contract"
	"github.com/adapterconformance/adapter-conformance/runner/lambdahost"
	"github.com/adapterconformance/adapter-conformance/suite"
)

// TestGoodLambdaAdaptersAsRuntimes builds each good Lambda adapter's
// bootstrap executable (aws-lambda-go's lambda.Start, unchanged) and runs
// the suite against it through the kit's Runtime API: runner.Binary, as for
// any executable, sees from its --describe that it declares Lambda host
// shapes and runs it as a Lambda function instead of a server.
func TestGoodLambdaAdaptersAsRuntimes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs every good Lambda adapter as a process")
	}
	eachInChild(t, func(t *testing.T, name string) {
		target := runner.Binary(builtAdapter(t, "good", "lambda", "cmd", name), runner.WithName("good-"+name))
		res, err := suite.Run(nil, target, suite.Quiet(), suite.Fixtures("basic", "base-app"))
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range res.Failed() {
			for _, msg := range res.Messages(id) {
				t.Errorf("%s failed:\n%s", id, msg)
			}
		}
		if !slices.Contains(res.Passed(), "LAMBDA-14") {
			t.Errorf("LAMBDA-14 did not pass; passed %q", res.Passed())
		}
		// The streamed responses came through the Runtime API as
		// streams, not read whole first.
		if name == "function-url-streaming" && !slices.Contains(res.Passed(), "LAMBDA-15") {
			t.Errorf("LAMBDA-15 did not pass; passed %q", res.Passed())
		}
		expectNoLeftovers(t)
	})
}

// helperRuntime is a Lambda target whose runtime is this test binary,
// re-run in one of the modes of TestLambdaHelperRuntime.
type helperRuntime struct{ mode string }

func (h helperRuntime) Name() string      { return "lambda-helper-" + h.mode }
func (h helperRuntime) Mode() runner.Mode { return runner.ModeBinary }
func (h helperRuntime) Start(ctx context.Context, m *app.Manifest) (*runner.Instance, error) {
	integration := goodlambda.IntegrationV2()
	d := contract.Describe(integration, m)
	in := &runner.Instance{Target: h.Name(), Mode: runner.ModeBinary, Unsupported: map[string]string{}, Declaration: contract.Declare(integration, m), Description: &d}
	host, err := runner.StartLambdaRuntime(ctx, in, app.ShapeLambdaV2, os.Args[0], []string{"-test.run=^TestLambdaHelperRuntime$"},
		[]string{"LAMBDA_HELPER_MODE=" + h.mode}, 2*time.Second, 3*time.Second)
	if host != nil {
		in.Hosts = append(in.Hosts, host)
	}
	return in, err
}

// TestLambdaHelperRuntime is not a test: it is the runtime process of
// helperRuntime, in the mode LAMBDA_HELPER_MODE names.
func TestLambdaHelperRuntime(t *testing.T) {
	mode := os.Getenv("LAMBDA_HELPER_MODE")
	if mode == "" {
		t.Skip("runs only as the runtime of a helperRuntime target")
	}
	m, err := app.New(lambdaHelperBasic(t))
	if err != nil {
		t.Fatal(err)
	}
	handler := goodlambda.HandlerV2(m)
	switch mode {
	case "never-next":
		// Initialises forever: never asks for an invocation.
		time.Sleep(time.Hour)
	case "exit-after-one":
		// A custom runtime that answers one invocation and exits, instead
		// of polling for the next.
		api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + lambdahost.RuntimeAPIVersion + "/runtime/invocation/"
		resp, err := http.Get(api + "next")
		if err != nil {
			os.Exit(1)
		}
		event, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		out, err := awslambda.NewHandler(handler).Invoke(context.Background(), event)
		post := api + id + "/response"
		if err != nil {
			post, out = api+id+"/error", []byte(`{"errorType":"Runtime.Unmarshal","errorMessage":"`+strings.ReplaceAll(err.Error(), `"`, `'`)+`"}`)
		}
		if r, err := http.Post(post, "application/json", bytes.NewReader(out)); err == nil {
			r.Body.Close()
		}
		os.Exit(0)
	default:
		awslambda.Start(handler)
	}
	os.Exit(0)
}

func lambdaHelperBasic(t *testing.T) *app.Manifest {
	m, err := fixtures.Load("basic")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestLambdaRuntimeFailuresAreClear: a runtime that never asks for an
// invocation, or that exits after each one, fails LAMBDA-14 with a message
// that says so, and nothing is left running.
func TestLambdaRuntimeFailuresAreClear(t *testing.T) {
	if testing.Short() {
		t.Skip("runs helper runtimes as processes")
	}
	eachInChild(t, func(t *testing.T, mode string) {
		res, err := suite.Run(nil, helperRuntime{mode}, suite.Quiet(), suite.Fixtures("basic"), suite.Focus("LAMBDA-14"))
		if err != nil {
			t.Fatal(err)
		}
		want, fails := lambdaRuntimeCases[mode]
		switch {
		case !fails:
			// The real runtime passes it.
			if !slices.Equal(res.Passed(), []string{"LAMBDA-14"}) || len(res.Failed()) > 0 {
				t.Errorf("lambda.Start runtime: passed %q failed %q: %s", res.Passed(), res.Failed(), fmt.Sprint(res.Messages("LAMBDA-14")))
			}
		case !slices.Equal(res.Failed(), []string{"LAMBDA-14"}):
			t.Errorf("failed %q, want [LAMBDA-14]", res.Failed())
		default:
			if msgs := strings.Join(res.Messages("LAMBDA-14"), "\n"); !strings.Contains(msgs, want) {
				t.Errorf("LAMBDA-14's message does not say %q:\n%s", want, msgs)
			}
		}
		expectNoLeftovers(t)
	})
}

// lambdaRuntimeCases are TestLambdaRuntimeFailuresAreClear's runtimes
// (TestLambdaHelperRuntime's modes) that fail LAMBDA-14, with what its
// message must say; "start", aws-lambda-go's own loop, passes it.
var lambdaRuntimeCases = map[string]string{
	"never-next":     "never asked for an invocation",
	"exit-after-one": "the runtime to poll GET /next again after answering",
}

// lambdaRuntimeModes are the children of TestLambdaRuntimeFailuresAreClear.
func lambdaRuntimeModes() []string {
	return append(slices.Sorted(maps.Keys(lambdaRuntimeCases)), "start")
}
