package lambdahost_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner/lambdahost"
)

// streamRuntime is a custom runtime written against the Runtime API by
// hand, so that a test controls each byte of a streamed post, its headers
// and its trailers. (aws-lambda-go's lambda.Start is driven through the
// same API by the suite's tests of the good and broken Lambda adapters.)
type streamRuntime struct {
	t    *testing.T
	base string
}

func newStreamRuntime(t *testing.T, api *lambdahost.RuntimeAPI) streamRuntime {
	return streamRuntime{t: t, base: "http://" + api.Addr + lambdahost.RuntimeAPIVersion + "/runtime/invocation/"}
}

// next takes the next invocation and returns its request id. It runs on
// the runtime's goroutine, so a failure is an Error, not a Fatal.
func (rt streamRuntime) next() string {
	resp, err := http.Get(rt.base + "next")
	if err != nil {
		rt.t.Error(err)
		return ""
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
}

// post sends a response in the background and reports the status the
// Runtime API answered (0 when the post failed). The request is chunked
// because body has no length; trailer, when set, is declared up front and
// filled by body before it ends.
func (rt streamRuntime) post(id string, header http.Header, body io.Reader, trailer http.Header) <-chan int {
	done := make(chan int, 1)
	req, err := http.NewRequest("POST", rt.base+id+"/response", body)
	if err != nil {
		rt.t.Error(err)
		done <- 0
		return done
	}
	req.Header = header
	req.Trailer = trailer
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	return done
}

// answerNext takes the next invocation and posts its response, in the
// background, as a runtime's loop does; the channel gives the status the
// Runtime API answered.
func (rt streamRuntime) answerNext(header http.Header, body io.Reader, trailer http.Header) <-chan int {
	done := make(chan int, 1)
	go func() { done <- <-rt.post(rt.next(), header, body, trailer) }()
	return done
}

const streamPrelude = `{"statusCode":200,"headers":{"Content-Type":"text/plain"},"cookies":["a=1","b=2"]}` + "\x00\x00\x00\x00\x00\x00\x00\x00"

func streamHeader(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// streamGateway puts a Function URL gateway with a function timeout in
// front of a fresh Runtime API.
func streamGateway(t *testing.T, timeout time.Duration) (*lambdahost.RuntimeAPI, *lambdahost.Gateway, *httptest.Server) {
	t.Helper()
	api, err := lambdahost.NewRuntimeAPI()
	if err != nil {
		t.Fatal(err)
	}
	g := lambdahost.NewGateway(app.ShapeFunctionURL, api.Invoke, nil)
	g.Timeout = timeout
	srv := httptest.NewServer(g)
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		api.Close()
	})
	return api, g, srv
}

func getStream(t *testing.T, srv *httptest.Server, id string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+"/s", nil)
	req.Header.Set(lambdahost.RequestIDHeader, id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestRuntimeAPIStreams: a runtime in response streaming mode, named by
// the mode header or by the content type alone (as aws-lambda-go posts),
// reaches the client as it posts: the client reads the first chunk while
// the runtime has not yet written the last. The post is answered 202 once
// the stream ends.
func TestRuntimeAPIStreams(t *testing.T) {
	for name, header := range map[string]http.Header{
		"content type":   streamHeader("Content-Type", lambdahost.StreamContentType),
		"mode header":    streamHeader(lambdahost.ResponseModeHeader, "streaming", "Content-Type", "application/octet-stream"),
		"both, any case": streamHeader(lambdahost.ResponseModeHeader, "Streaming", "Content-Type", lambdahost.StreamContentType+"; charset=binary"),
	} {
		t.Run(name, func(t *testing.T) {
			api, g, srv := streamGateway(t, 10*time.Second)
			rt := newStreamRuntime(t, api)
			pr, pw := io.Pipe()
			rt.answerNext(header, pr, nil)
			// The runtime writes its last chunk only once the client has
			// the first one (or never: the test then fails).
			go pw.Write([]byte(streamPrelude + "first\n"))
			resp := getStream(t, srv, "s-1")
			defer resp.Body.Close()
			if resp.StatusCode != 200 || len(resp.Header.Values("Set-Cookie")) != 2 {
				t.Fatalf("status %d, header %v", resp.StatusCode, resp.Header)
			}
			first := make([]byte, len("first\n"))
			got := make(chan error, 1)
			go func() { _, err := io.ReadFull(resp.Body, first); got <- err }()
			select {
			case err := <-got:
				if err != nil || string(first) != "first\n" {
					t.Fatalf("first chunk %q, %v", first, err)
				}
			case <-time.After(5 * time.Second):
				pw.CloseWithError(io.ErrUnexpectedEOF)
				t.Fatal("the first chunk did not reach the client before the runtime wrote the last: the Runtime API buffered the stream")
			}
			pw.Write([]byte("last\n"))
			pw.Close()
			rest, err := io.ReadAll(resp.Body)
			if err != nil || string(rest) != "last\n" {
				t.Errorf("rest %q, %v", rest, err)
			}
			invs := g.For("s-1")
			if len(invs) != 1 || !invs[0].Streamed || invs[0].Outcome != lambdahost.OutcomeOK || string(invs[0].Body) != "first\nlast\n" {
				t.Fatalf("invocations %+v", invs)
			}
			waitCall(t, api, "s-1", http.StatusAccepted, fmt.Sprintf("streamed %d bytes", len(streamPrelude+"first\nlast\n")))
		})
	}
}

// waitCall waits until the Runtime API has logged the response post of an
// invocation, and checks its status and note.
func waitCall(t *testing.T, api *lambdahost.RuntimeAPI, id string, status int, note string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, c := range api.CallsFor(id) {
			if strings.HasSuffix(c.Path, "/response") && c.Status != http.StatusBadRequest {
				if c.Status != status || !strings.Contains(c.Note, note) {
					t.Errorf("the post was logged %d %q, want %d and %q", c.Status, c.Note, status, note)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no response post logged for %s; calls %+v", id, api.CallsFor(id))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRuntimeAPIStreamFailures: every way a streamed post can go wrong is
// answered as the Lambda service would, cuts the client's stream visibly
// (no clean end), and is logged with what happened.
func TestRuntimeAPIStreamFailures(t *testing.T) {
	streaming := func() http.Header { return streamHeader("Content-Type", lambdahost.StreamContentType) }

	t.Run("invalid mode header", func(t *testing.T) {
		api, _, srv := streamGateway(t, 10*time.Second)
		rt := newStreamRuntime(t, api)
		statuses := make(chan int, 2)
		go func() {
			id := rt.next()
			statuses <- <-rt.post(id, streamHeader(lambdahost.ResponseModeHeader, "buffered"), strings.NewReader("{}"), nil)
			// Refused before the invocation was taken: a valid post works.
			statuses <- <-rt.post(id, streamHeader("Content-Type", "application/json"), strings.NewReader(`{"statusCode":204}`), nil)
		}()
		resp := getStream(t, srv, "mode-1")
		resp.Body.Close()
		if a, b := <-statuses, <-statuses; a != http.StatusBadRequest || b != http.StatusAccepted || resp.StatusCode != 204 {
			t.Errorf("posts answered %d then %d, client got %d; want 400, 202, 204", a, b, resp.StatusCode)
		}
		calls := api.CallsFor("mode-1")
		if len(calls) < 2 || !strings.Contains(calls[1].Note, `"buffered" is not a response mode`) {
			t.Errorf("calls %+v", calls)
		}
	})

	t.Run("error trailers", func(t *testing.T) {
		api, g, srv := streamGateway(t, 10*time.Second)
		rt := newStreamRuntime(t, api)
		trailer := http.Header{lambdahost.ErrorTypeTrailer: nil, lambdahost.ErrorBodyTrailer: nil}
		posted := rt.answerNext(streaming(), io.MultiReader(strings.NewReader(streamPrelude+"partial"), failAfter(func() {
			trailer.Set(lambdahost.ErrorTypeTrailer, "Runtime.RenderFailed")
			trailer.Set(lambdahost.ErrorBodyTrailer, base64.StdEncoding.EncodeToString([]byte(`{"errorType":"Runtime.RenderFailed","errorMessage":"the page threw"}`)))
		})), trailer)
		resp := getStream(t, srv, "trailer-1")
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil || string(body) != "partial" {
			t.Errorf("client read %q, %v; want the partial body and a cut stream", body, err)
		}
		if s := <-posted; s != http.StatusAccepted {
			t.Errorf("the post was answered %d, want 202", s)
		}
		invs := g.For("trailer-1")
		if len(invs) != 1 || invs[0].Outcome != lambdahost.OutcomeStreamCut || !strings.Contains(invs[0].FunctionError, "Runtime.RenderFailed: the page threw") {
			t.Errorf("invocations %+v", invs)
		}
		waitCall(t, api, "trailer-1", http.StatusAccepted, "then failed (trailers): Runtime.RenderFailed: the page threw")
	})

	t.Run("error trailers on a buffered post", func(t *testing.T) {
		api, g, srv := streamGateway(t, 10*time.Second)
		rt := newStreamRuntime(t, api)
		trailer := http.Header{lambdahost.ErrorTypeTrailer: nil}
		posted := rt.answerNext(streamHeader("Content-Type", "application/json"), io.MultiReader(strings.NewReader(`{"statusCode":200}`), failAfter(func() {
			trailer.Set(lambdahost.ErrorTypeTrailer, "Runtime.LateFailure")
		})), trailer)
		resp := getStream(t, srv, "trailer-2")
		resp.Body.Close()
		if s := <-posted; s != http.StatusAccepted || resp.StatusCode != http.StatusBadGateway {
			t.Errorf("the post was answered %d and the client got %d; want 202 and 502", s, resp.StatusCode)
		}
		if invs := g.For("trailer-2"); len(invs) != 1 || invs[0].Outcome != lambdahost.OutcomeFunctionError || !strings.Contains(invs[0].FunctionError, "Runtime.LateFailure") {
			t.Errorf("invocations %+v", invs)
		}
	})

	t.Run("over the streaming limit", func(t *testing.T) {
		api, g, srv := streamGateway(t, 30*time.Second)
		rt := newStreamRuntime(t, api)
		big := io.LimitReader(zeros{}, lambdahost.MaxStreamResponse) // with the prelude, past the limit
		// Then the runtime stalls: the 413 must not wait for more of it.
		stall := make(chan struct{})
		defer close(stall)
		posted := rt.answerNext(streaming(), io.MultiReader(strings.NewReader(streamPrelude), big, stallReader(stall)), nil)
		resp := getStream(t, srv, "big-1")
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil || n > lambdahost.MaxStreamResponse {
			t.Errorf("client read %d bytes, %v; want a stream cut at the limit", n, err)
		}
		select {
		case s := <-posted:
			if s != http.StatusRequestEntityTooLarge {
				t.Errorf("the post was answered %d, want 413", s)
			}
		case <-time.After(10 * time.Second):
			t.Error("the 413 was not sent while the runtime stalled after passing the limit")
		}
		invs := g.For("big-1")
		if len(invs) != 1 || invs[0].Outcome != lambdahost.OutcomeStreamCut || !strings.Contains(invs[0].Detail, "streaming limit") {
			t.Errorf("invocation outcome %q: %s", invs[0].Outcome, invs[0].Detail)
		}
		waitCall(t, api, "big-1", http.StatusRequestEntityTooLarge, "over the streaming limit")
	})

	t.Run("client leaves", func(t *testing.T) {
		api, g, srv := streamGateway(t, 10*time.Second)
		rt := newStreamRuntime(t, api)
		pr, pw := io.Pipe()
		posted := rt.answerNext(streaming(), pr, nil)
		go pw.Write([]byte(streamPrelude + "first\n"))
		resp := getStream(t, srv, "leave-1")
		first := make([]byte, 6)
		if _, err := io.ReadFull(resp.Body, first); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close() // the client hangs up mid-stream
		// The function goes on writing until the gateway has given up on
		// the stream (it records the invocation then), and a while after.
		deadline := time.Now().Add(5 * time.Second)
		for len(g.For("leave-1")) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("the gateway never gave up on a stream whose client left")
			}
			pw.Write(bytes.Repeat([]byte("x"), 1024))
		}
		pw.Write(bytes.Repeat([]byte("y"), 64<<10))
		pw.Close()
		// The post is still answered 202: the runtime survives its
		// caller leaving.
		if s := <-posted; s != http.StatusAccepted {
			t.Errorf("the post was answered %d, want 202", s)
		}
		waitCall(t, api, "leave-1", http.StatusAccepted, "its client left")
	})

	t.Run("deadline", func(t *testing.T) {
		api, g, srv := streamGateway(t, 500*time.Millisecond)
		rt := newStreamRuntime(t, api)
		pr, pw := io.Pipe()
		posted := rt.answerNext(streaming(), pr, nil)
		go pw.Write([]byte(streamPrelude + "first\n")) // and never the end
		resp := getStream(t, srv, "late-1")
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil || string(body) != "first\n" {
			t.Errorf("client read %q, %v; want the first chunk and a cut stream", body, err)
		}
		pw.Close() // the post returns once its body has ended
		if s := <-posted; s != 0 {
			t.Errorf("the post was answered %d; past the deadline it is cut off", s)
		}
		// The timeout is blamed, not the runtime, whichever saw it first.
		invs := g.For("late-1")
		if len(invs) != 1 {
			t.Fatalf("%d invocations recorded, want 1", len(invs))
		}
		if inv := invs[0]; inv.Outcome != lambdahost.OutcomeStreamCut || !strings.Contains(inv.Detail, "did not end within the function's timeout") || inv.FunctionError != "" {
			t.Errorf("outcome %q, detail %q, function error %q; want a stream cut by the timeout, with no function error", inv.Outcome, inv.Detail, inv.FunctionError)
		}
		waitCall(t, api, "late-1", 0, "timeout passed before the stream ended")
	})
}

// failAfter is a reader that ends at once, after calling fill: the
// trailers of a post are filled by the body's last read.
type failAfterReader struct{ fill func() }

func failAfter(fill func()) io.Reader { return &failAfterReader{fill} }

func (r *failAfterReader) Read([]byte) (int, error) {
	if r.fill != nil {
		r.fill()
		r.fill = nil
	}
	return 0, io.EOF
}

// stallReader blocks until stall is closed, then ends.
type stallReader chan struct{}

func (r stallReader) Read([]byte) (int, error) {
	<-r
	return 0, io.EOF
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
