package lambdahost_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner/lambdahost"
)

func TestLambdaEventV2(t *testing.T) {
	body := []byte{0, 1, 2, 0xff}
	r := httptest.NewRequest("POST", "/a%2Fb/caf%C3%A9?x=%7B1%7D&x=2&p=a%2Bb&flag", bytes.NewReader(body))
	r.Header.Add("X-A", "1")
	r.Header.Add("X-A", "2")
	r.Header.Set("Cookie", "a=1; b=2")
	r.Header.Set("Content-Type", "application/octet-stream")
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	raw, err := lambdahost.BuildEvent(app.ShapeLambdaV2, r, body, "id-1", lambdahost.EventOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	check := func(what string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v\nevent: %s", what, got, want, raw)
		}
	}
	check("version", ev.Version, "2.0")
	check("rawPath", ev.RawPath, "/a/b/café") // decoded: TestGatewayFacts
	check("rawQueryString", ev.RawQueryString, "x=%7B1%7D&x=2&p=a%2Bb&flag")
	check("cookies", ev.Cookies, []string{"a=1", "b=2"})
	check("x-a", ev.Headers["x-a"], "1,2")
	check("cookie header", ev.Headers["cookie"], "")
	check("host", ev.Headers["host"], "example.com")
	check("x-forwarded-for", ev.Headers["x-forwarded-for"], "203.0.113.9, 192.0.2.1")
	check("query x", ev.QueryStringParameters["x"], "{1},2")
	check("query p", ev.QueryStringParameters["p"], "a+b")
	_, hasFlag := ev.QueryStringParameters["flag"]
	check("query flag", hasFlag, true)
	check("sourceIp", ev.RequestContext.HTTP.SourceIP, "192.0.2.1")
	check("method", ev.RequestContext.HTTP.Method, "POST")
	check("stage", ev.RequestContext.Stage, "$default")
	check("isBase64Encoded", ev.IsBase64Encoded, true)
	check("body", ev.Body, base64.StdEncoding.EncodeToString(body))
	if bytes.Contains(raw, []byte(`"authentication"`)) {
		t.Errorf("the event carries requestContext.authentication, which HTTP APIs send only for mTLS: %s", raw)
	}
	if bytes.Contains(raw, []byte("multiValue")) {
		t.Errorf("a v2 event has no multi-value fields: %s", raw)
	}

	// A text body is sent as it is; a form body is binary.
	for ct, want := range map[string]bool{"application/json": false, "text/plain; charset=utf-8": false, "application/ld+json": false, "application/x-www-form-urlencoded": true} {
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("Content-Type", ct)
		raw, _ := lambdahost.BuildEvent(app.ShapeLambdaV2, r, []byte(`{"a":"é"}`), "id", lambdahost.EventOptions{})
		var ev events.APIGatewayV2HTTPRequest
		json.Unmarshal(raw, &ev)
		check("isBase64Encoded for "+ct, ev.IsBase64Encoded, want)
	}
	// Invalid UTF-8 is binary whatever its type says.
	r = httptest.NewRequest("POST", "/", nil)
	r.Header.Set("Content-Type", "application/json")
	raw, _ = lambdahost.BuildEvent(app.ShapeLambdaV2, r, []byte{'"', 0xff, '"'}, "id", lambdahost.EventOptions{})
	json.Unmarshal(raw, &ev)
	check("isBase64Encoded for invalid UTF-8", ev.IsBase64Encoded, true)
}

// TestLambdaEventBodyField: every shape's event carries the body as the
// gateway does (text as it is, escaped as JSON escapes any string; binary
// base64-encoded), the REST event a "body" field even when empty, and the
// v2 and Function URL events none when empty; the event is one JSON object
// with each field once.
func TestLambdaEventBodyField(t *testing.T) {
	text := "quote \" backslash \\ <tag> & amp \u2028 tab\t nul\x00 é\n"
	binary := []byte{0, 1, 2, 0xfb, 0xff, '"', '\\'}
	for _, shape := range []app.HostShape{app.ShapeLambdaV1, app.ShapeLambdaV2, app.ShapeFunctionURL} {
		for _, c := range []struct {
			name, contentType string
			body              []byte
			wantField         string
			wantBase64        bool
		}{
			{"text", "text/plain; charset=utf-8", []byte(text), text, false},
			{"binary", "application/octet-stream", binary, base64.StdEncoding.EncodeToString(binary), true},
			{"empty", "", nil, "", false},
		} {
			r := httptest.NewRequest("POST", "/echo?q=1", bytes.NewReader(c.body))
			if c.contentType != "" {
				r.Header.Set("Content-Type", c.contentType)
			}
			raw, err := lambdahost.BuildEvent(shape, r, c.body, "id", lambdahost.EventOptions{})
			if err != nil {
				t.Fatalf("%s %s: %v", shape, c.name, err)
			}
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(raw, &fields); err != nil {
				t.Fatalf("%s %s: the event is not a JSON object: %v\n%s", shape, c.name, err, raw)
			}
			if n := bytes.Count(raw, []byte(`"body":`)); n > 1 {
				t.Errorf("%s %s: %d body fields in %s", shape, c.name, n, raw)
			}
			bodyRaw, has := fields["body"]
			if wantHas := c.body != nil || shape == app.ShapeLambdaV1; has != wantHas {
				t.Errorf("%s %s: body field present %v, want %v\n%s", shape, c.name, has, wantHas, raw)
			}
			var got string
			if has && json.Unmarshal(bodyRaw, &got) != nil {
				t.Errorf("%s %s: body is not a string: %s", shape, c.name, bodyRaw)
			}
			if got != c.wantField {
				t.Errorf("%s %s: body = %q, want %q", shape, c.name, got, c.wantField)
			}
			var b64 bool
			json.Unmarshal(fields["isBase64Encoded"], &b64)
			if b64 != c.wantBase64 {
				t.Errorf("%s %s: isBase64Encoded = %v, want %v", shape, c.name, b64, c.wantBase64)
			}
			if _, has := fields["requestContext"]; !has {
				t.Errorf("%s %s: no requestContext in %s", shape, c.name, raw)
			}
		}
	}
}

func TestLambdaEventStageAndEdit(t *testing.T) {
	r := httptest.NewRequest("GET", "/about?a=1", nil)
	raw, err := lambdahost.BuildEvent(app.ShapeLambdaV2, r, nil, "id", lambdahost.EventOptions{Stage: "prod", SourceIP: "198.51.100.7", Edit: func(m map[string]any) {
		m["cookies"] = []any{"z=9"}
	}})
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	json.Unmarshal(raw, &ev)
	if ev.RawPath != "/prod/about" || ev.RequestContext.Stage != "prod" || ev.RequestContext.HTTP.SourceIP != "198.51.100.7" || !slices.Equal(ev.Cookies, []string{"z=9"}) {
		t.Errorf("event %s", raw)
	}
	// Function URLs have no stage.
	raw, _ = lambdahost.BuildEvent(app.ShapeFunctionURL, r, nil, "id", lambdahost.EventOptions{Stage: "prod"})
	var fe events.LambdaFunctionURLRequest
	json.Unmarshal(raw, &fe)
	if fe.RawPath != "/about" {
		t.Errorf("Function URL rawPath %q, want /about", fe.RawPath)
	}
}

func TestLambdaEventV1(t *testing.T) {
	r := httptest.NewRequest("GET", "/blog/a%2Fb?a=1&a=2&q=a+b&flag", nil)
	r.Header.Add("X-A", "1")
	r.Header.Add("X-A", "2")
	r.Header.Set("Cookie", "a=1; b=2")
	raw, err := lambdahost.BuildEvent(app.ShapeLambdaV1, r, nil, "id", lambdahost.EventOptions{Stage: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayProxyRequest
	json.Unmarshal(raw, &ev)
	switch {
	case ev.Path != "/blog/a%2Fb", ev.RequestContext.Path != "/prod/blog/a%2Fb", ev.RequestContext.Stage != "prod":
		t.Errorf("path %q, requestContext.path %q, stage %q", ev.Path, ev.RequestContext.Path, ev.RequestContext.Stage)
	case ev.Headers["X-A"] != "2" || !slices.Equal(ev.MultiValueHeaders["X-A"], []string{"1", "2"}):
		t.Errorf("X-A: headers %q, multiValueHeaders %q", ev.Headers["X-A"], ev.MultiValueHeaders["X-A"])
	case ev.Headers["Cookie"] != "a=1; b=2":
		t.Errorf("v1 keeps the Cookie header: %q", ev.Headers["Cookie"])
	case ev.QueryStringParameters["a"] != "2" || !slices.Equal(ev.MultiValueQueryStringParameters["a"], []string{"1", "2"}):
		t.Errorf("a: %q, %q", ev.QueryStringParameters["a"], ev.MultiValueQueryStringParameters["a"])
	case ev.QueryStringParameters["q"] != "a b" || ev.QueryStringParameters["flag"] != "":
		t.Errorf("q %q flag %q", ev.QueryStringParameters["q"], ev.QueryStringParameters["flag"])
	case ev.RequestContext.Identity.SourceIP != "192.0.2.1", ev.HTTPMethod != "GET":
		t.Errorf("sourceIp %q method %q", ev.RequestContext.Identity.SourceIP, ev.HTTPMethod)
	}
	// No query: null query fields, as API Gateway sends them.
	raw, _ = lambdahost.BuildEvent(app.ShapeLambdaV1, httptest.NewRequest("GET", "/", nil), nil, "id", lambdahost.EventOptions{})
	if !bytes.Contains(raw, []byte(`"queryStringParameters":null`)) || !bytes.Contains(raw, []byte(`"multiValueQueryStringParameters":null`)) {
		t.Errorf("event without a query: %s", raw)
	}
}

func TestTranslateLambdaResponseV1(t *testing.T) {
	status, h, body, problem := lambdahost.TranslateResponse(app.ShapeLambdaV1, []byte(
		`{"statusCode":201,"headers":{"X-One":"1","Set-Cookie":"lost=1","X-Multi":"y","Content-Length":"99"},"multiValueHeaders":{"Set-Cookie":["a=1","b=2"],"X-Multi":["x","y"]},"body":"AAEC","isBase64Encoded":true}`))
	if problem != "" || status != 201 {
		t.Fatalf("status %d problem %q", status, problem)
	}
	if !slices.Equal(h.Values("Set-Cookie"), []string{"a=1", "b=2", "lost=1"}) || !slices.Equal(h.Values("X-Multi"), []string{"x", "y"}) || h.Get("X-One") != "1" || h.Get("Content-Length") != "" {
		t.Errorf("headers %v", h)
	}
	if !bytes.Equal(body, []byte{0, 1, 2}) {
		t.Errorf("body %v", body)
	}
	// What aws-lambda-go writes for an empty response is accepted.
	if _, _, _, problem := lambdahost.TranslateResponse(app.ShapeLambdaV1, []byte(`{"statusCode":204,"headers":null,"multiValueHeaders":null,"body":""}`)); problem != "" {
		t.Errorf("empty response: %s", problem)
	}
	for name, raw := range map[string]string{
		"cookies field (B05)":           `{"statusCode":200,"body":"","cookies":["a=1"]}`,
		"no statusCode":                 `{"body":"hi"}`,
		"string statusCode":             `{"statusCode":"200","body":""}`,
		"string multiValueHeaders":      `{"statusCode":200,"multiValueHeaders":{"X":"a"}}`,
		"numeric header":                `{"statusCode":200,"headers":{"X":1}}`,
		"not an object":                 `"hello"`,
		"bad base64":                    `{"statusCode":200,"body":"!!","isBase64Encoded":true}`,
		"status out of range":           `{"statusCode":99}`,
		"body that is not a string":     `{"statusCode":200,"body":{"a":1}}`,
		"isBase64Encoded not a boolean": `{"statusCode":200,"isBase64Encoded":"true"}`,
	} {
		if _, _, _, problem := lambdahost.TranslateResponse(app.ShapeLambdaV1, []byte(raw)); problem == "" {
			t.Errorf("%s: %s was accepted", name, raw)
		}
	}
}

func TestTranslateLambdaResponseV2(t *testing.T) {
	for _, shape := range []app.HostShape{app.ShapeLambdaV2, app.ShapeFunctionURL} {
		status, h, body, problem := lambdahost.TranslateResponse(shape, []byte(
			`{"statusCode":200,"headers":{"content-type":"text/plain","set-cookie":"last=1"},"multiValueHeaders":{"X-Ignored":["a","b"]},"cookies":["a=1; Path=/","b=2"],"body":"hi"}`))
		if problem != "" || status != 200 || string(body) != "hi" {
			t.Fatalf("%s: status %d body %q problem %q", shape, status, body, problem)
		}
		if got := h.Values("Set-Cookie"); !slices.Equal(got, []string{"last=1", "a=1; Path=/", "b=2"}) {
			t.Errorf("%s: Set-Cookie %q", shape, got)
		}
		if h.Get("X-Ignored") != "" {
			t.Errorf("%s: multiValueHeaders must be ignored, got %v", shape, h)
		}
		// Without a statusCode the result is the body of a 200 JSON response.
		for _, raw := range []string{`{"message":"hi"}`, `"hello"`, `null`} {
			status, h, body, problem := lambdahost.TranslateResponse(shape, []byte(raw))
			if problem != "" || status != 200 || h.Get("Content-Type") != "application/json" || string(body) != raw {
				t.Errorf("%s: inferred %s: %d %v %q %q", shape, raw, status, h, body, problem)
			}
		}
		for _, raw := range []string{`{"statusCode":200,"cookies":"a=1"}`, `{"statusCode":200,"headers":{"x":["a"]}}`, `{"statusCode":"x"}`} {
			if _, _, _, problem := lambdahost.TranslateResponse(shape, []byte(raw)); problem == "" {
				t.Errorf("%s: %s was accepted", shape, raw)
			}
		}
	}
}

func v2Handler(f func(events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)) any {
	return func(_ context.Context, e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return f(e)
	}
}

// faultLog records the faults a gateway reports, as runner.FaultLog does.
type faultLog struct {
	mu   sync.Mutex
	byID map[string][]string
}

func (f *faultLog) Add(id, fault string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.byID == nil {
		f.byID = map[string][]string{}
	}
	f.byID[id] = append(f.byID[id], fault)
}

func (f *faultLog) For(id string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.byID[id]
}

func TestLambdaGatewayOutcomes(t *testing.T) {
	big := strings.Repeat("x", lambdahost.MaxPayload)
	handler := v2Handler(func(e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		switch e.RawPath {
		case "/fail":
			return events.APIGatewayV2HTTPResponse{}, errors.New("boom")
		case "/panic":
			panic("kaboom")
		case "/big":
			return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: big}, nil
		}
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: e.RawPath, Cookies: []string{"a=1", "b=2"}}, nil
	})
	faults := &faultLog{}
	g := lambdahost.NewGateway(app.ShapeLambdaV2, lambdahost.InProcessInvoker(handler), faults)
	srv := httptest.NewServer(g)
	defer srv.Close()
	for _, c := range []struct {
		path    string
		status  int
		outcome string
		body    string
	}{
		{"/ok", 200, lambdahost.OutcomeOK, "/ok"},
		{"/fail", 502, lambdahost.OutcomeFunctionError, ""},
		{"/panic", 502, lambdahost.OutcomeFunctionError, ""},
		{"/big", 502, lambdahost.OutcomeResponseTooLarge, ""},
		{"/ok", 200, lambdahost.OutcomeOK, "/ok"},
	} {
		id := "req-" + strings.TrimPrefix(c.path, "/")
		req, _ := http.NewRequest("GET", srv.URL+c.path, nil)
		req.Header.Set(lambdahost.RequestIDHeader, id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || (c.body != "" && string(b) != c.body) {
			t.Errorf("%s: %d %q, want %d %q", c.path, resp.StatusCode, b, c.status, c.body)
		}
		invs := g.For(id)
		if len(invs) == 0 || invs[len(invs)-1].Outcome != c.outcome {
			t.Errorf("%s: invocations %+v, want outcome %s", c.path, invs, c.outcome)
			continue
		}
		if c.outcome == lambdahost.OutcomeOK && !slices.Equal(resp.Header.Values("Set-Cookie"), []string{"a=1", "b=2"}) {
			t.Errorf("%s: Set-Cookie %q", c.path, resp.Header.Values("Set-Cookie"))
		}
		if c.outcome != lambdahost.OutcomeOK && len(faults.For(id)) == 0 {
			t.Errorf("%s: no fault recorded", c.path)
		}
	}
	// An event over the limit is refused with 413 before any invocation.
	before := g.Count()
	req, _ := http.NewRequest("POST", srv.URL+"/ok", strings.NewReader(big))
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || g.Count() != before+1 {
		t.Errorf("oversized request: %d", resp.StatusCode)
	}
}

// TestLambdaGatewayConcurrent: concurrent invocations each get their own
// answer (aws-lambda-go reuses its output buffer within one handler).
func TestLambdaGatewayConcurrent(t *testing.T) {
	handler := v2Handler(func(e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: strings.Repeat(e.RawPath, 200)}, nil
	})
	g := lambdahost.NewGateway(app.ShapeLambdaV2, lambdahost.InProcessInvoker(handler), nil)
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			p := fmt.Sprintf("/p%d", i)
			inv := g.RoundTrip(context.Background(), httptest.NewRequest("GET", p, nil), lambdahost.EventOptions{})
			if string(inv.Body) != strings.Repeat(p, 200) {
				t.Errorf("%s: got %.40q...", p, inv.Body)
			}
		})
	}
	wg.Wait()
}

// and an invoker called outside a gateway gives the raw stream.
func TestLambdaGatewayStreams(t *testing.T) {
	release := make(chan struct{})
	handler := func(_ context.Context, e events.LambdaFunctionURLRequest) (*events.LambdaFunctionURLStreamingResponse, error) {
		pr, pw := io.Pipe()
		go func() {
			pw.Write([]byte("first\n"))
			if e.RawPath == "/wait" {
				<-release
			}
			pw.Write([]byte("last\n"))
			pw.Close()
		}()
		return &events.LambdaFunctionURLStreamingResponse{StatusCode: 201, Headers: map[string]string{"Content-Type": "text/plain"},
			Cookies: []string{"a=1", "b=2"}, Body: pr}, nil
	}
	g := lambdahost.NewGateway(app.ShapeFunctionURL, lambdahost.InProcessInvoker(handler), nil)
	srv := httptest.NewServer(g)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/wait", nil)
	req.Header.Set(lambdahost.RequestIDHeader, "stream-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 201 || resp.Header.Get("Content-Type") != "text/plain" || !slices.Equal(resp.Header.Values("Set-Cookie"), []string{"a=1", "b=2"}) {
		t.Fatalf("status %d, header %v", resp.StatusCode, resp.Header)
	}
	// A buffering gateway would wait for the last chunk forever: give up
	// waiting after a while, and say so.
	var once sync.Once
	var buffered atomic.Bool
	timer := time.AfterFunc(5*time.Second, func() { buffered.Store(true); once.Do(func() { close(release) }) })
	first := make([]byte, len("first\n"))
	_, err = io.ReadFull(resp.Body, first)
	timer.Stop()
	if err != nil || string(first) != "first\n" || buffered.Load() {
		t.Fatalf("first chunk %q, %v: it must arrive before the last is written (waited 5s: %v)", first, err, buffered.Load())
	}
	once.Do(func() { close(release) })
	rest, _ := io.ReadAll(resp.Body)
	if string(rest) != "last\n" {
		t.Errorf("rest %q", rest)
	}
	invs := g.For("stream-1")
	if len(invs) != 1 || !invs[0].Streamed || invs[0].Outcome != lambdahost.OutcomeOK || string(invs[0].Body) != "first\nlast\n" ||
		string(invs[0].Response) != `{"statusCode":201,"headers":{"Content-Type":"text/plain"},"cookies":["a=1","b=2"]}` {
		t.Fatalf("invocations %+v", invs)
	}

	inv := g.RoundTrip(context.Background(), httptest.NewRequest("GET", "/now", nil), lambdahost.EventOptions{})
	if !inv.Streamed || inv.Status != 201 || string(inv.Body) != "first\nlast\n" {
		t.Errorf("RoundTrip: %+v", inv)
	}

	out, err := lambdahost.InProcessInvoker(handler)(context.Background(), "direct", []byte(`{"rawPath":"/now"}`))
	want := `{"statusCode":201,"headers":{"Content-Type":"text/plain"},"cookies":["a=1","b=2"]}` + strings.Repeat("\x00", 8) + "first\nlast\n"
	if err != nil || string(out) != want {
		t.Errorf("invoker outside a gateway: %q, %v", out, err)
	}
}

// TestLambdaGatewayStreamLimit: in-process, the streaming limit counts the
// whole stream, prelude included, as the Runtime API does; a stream of
// exactly the limit passes, and one a byte over is cut before that byte
// is sent, even when it comes in the read that ends the stream.
func TestLambdaGatewayStreamLimit(t *testing.T) {
	var bodySize atomic.Int64
	handler := func(context.Context, events.LambdaFunctionURLRequest) (*events.LambdaFunctionURLStreamingResponse, error) {
		body := io.LimitReader(zeros{}, bodySize.Load())
		return &events.LambdaFunctionURLStreamingResponse{StatusCode: 200, Body: iotest.DataErrReader(body)}, nil
	}
	g := lambdahost.NewGateway(app.ShapeFunctionURL, lambdahost.InProcessInvoker(handler), nil)
	// 20 MiB through the gateway under -race on a loaded CI machine can
	// outlast the 10 s function timeout; the limit is what is checked here.
	g.Timeout = time.Minute
	srv := httptest.NewServer(g)
	defer srv.Close()
	get := func(id string) (int64, lambdahost.Invocation, error) {
		req, _ := http.NewRequest("GET", srv.URL+"/big", nil)
		req.Header.Set(lambdahost.RequestIDHeader, id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		invs := g.For(id)
		if len(invs) != 1 {
			t.Fatalf("%s: %d invocations", id, len(invs))
		}
		return n, *invs[0], err
	}
	// The prelude's length, from an empty stream.
	_, probe, _ := get("probe")
	room := int64(lambdahost.MaxStreamResponse - len(probe.Response) - 8)

	bodySize.Store(room)
	if n, inv, err := get("at-limit"); err != nil || n != room || inv.Outcome != lambdahost.OutcomeOK {
		t.Errorf("a stream of exactly the limit: client read %d of %d bytes, %v; outcome %q %s", n, room, err, inv.Outcome, inv.Detail)
	}
	bodySize.Store(room + 1)
	if n, inv, err := get("over-limit"); err == nil || n > room || inv.Outcome != lambdahost.OutcomeStreamCut || !strings.Contains(inv.Detail, "limit of response streaming") {
		t.Errorf("a stream a byte over the limit: client read %d bytes (at most %d), %v; outcome %q %s", n, room, err, inv.Outcome, inv.Detail)
	}
}
