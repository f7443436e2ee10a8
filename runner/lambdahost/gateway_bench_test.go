package lambdahost_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner/lambdahost"
)

// BenchmarkLambdaGateway is the cost of one request through the emulated
// Function URL, in process and through the kit's Runtime API, buffered and
// in response streaming mode. The runtime is a loop in this process that
// answers every invocation with the same small envelope, so the figures
// are the kit's own overhead (event, Runtime API hop, translation), not an
// adapter's. Read them as ratios to "inprocess" within one run.
func BenchmarkLambdaGateway(b *testing.B) {
	const body = "hello from the function\n"
	buffered, _ := json.Marshal(events.LambdaFunctionURLResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "text/plain"}, Body: body})
	streamed := []byte(`{"statusCode":200,"headers":{"Content-Type":"text/plain"}}` + "\x00\x00\x00\x00\x00\x00\x00\x00" + body)
	handler := func(context.Context, events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
		return events.LambdaFunctionURLResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "text/plain"}, Body: body}, nil
	}
	for _, c := range []struct {
		name   string
		invoke func(b *testing.B) lambdahost.Invoker
	}{
		{"inprocess", func(*testing.B) lambdahost.Invoker { return lambdahost.InProcessInvoker(handler) }},
		{"runtime-api-buffered", func(b *testing.B) lambdahost.Invoker {
			return runtimeLoop(b, "application/json", func() io.Reader { return bytes.NewReader(buffered) })
		}},
		{"runtime-api-streaming", func(b *testing.B) lambdahost.Invoker {
			// No length: posted chunked, as aws-lambda-go posts a stream.
			return runtimeLoop(b, lambdahost.StreamContentType, func() io.Reader { return io.MultiReader(bytes.NewReader(streamed)) })
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			g := lambdahost.NewGateway(app.ShapeFunctionURL, c.invoke(b), nil)
			srv := httptest.NewServer(g)
			defer srv.Close()
			client := srv.Client()
			for b.Loop() {
				resp, err := client.Get(srv.URL + "/about")
				if err != nil {
					b.Fatal(err)
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || string(got) != body {
					b.Fatalf("status %d, body %q", resp.StatusCode, got)
				}
			}
		})
	}
}

// runtimeLoop serves a Runtime API whose runtime, a goroutine, answers
// every invocation with the reader answer makes, of content type ct.
func runtimeLoop(b *testing.B, ct string, answer func() io.Reader) lambdahost.Invoker {
	api, err := lambdahost.NewRuntimeAPI()
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	b.Cleanup(func() {
		cancel()
		api.Close()
		<-done
	})
	base := "http://" + api.Addr + lambdahost.RuntimeAPIVersion + "/runtime/invocation/"
	go func() {
		defer close(done)
		client := &http.Client{}
		for ctx.Err() == nil {
			req, _ := http.NewRequestWithContext(ctx, "GET", base+"next", nil)
			resp, err := client.Do(req)
			if err != nil {
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return
			}
			post, _ := http.NewRequestWithContext(ctx, "POST", base+resp.Header.Get("Lambda-Runtime-Aws-Request-Id")+"/response", answer())
			post.Header.Set("Content-Type", ct)
			if r, err := client.Do(post); err == nil {
				io.Copy(io.Discard, r.Body)
				r.Body.Close()
			}
		}
	}()
	return func(ctx context.Context, id string, event []byte) ([]byte, error) {
		ctx, c := context.WithTimeout(ctx, 10*time.Second)
		defer c()
		return api.Invoke(ctx, id, event)
	}
}
