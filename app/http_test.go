package app_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/adapterconformance/adapter-conformance/app"
)

func echoOf(t *testing.T, a *app.App, r *http.Request, opts ...app.RenderOption) app.Echo {
	t.Helper()
	resp, body := do(t, a, r, opts...)
	if resp.StatusCode != 200 {
		t.Fatalf("echo %s %s: status %d: %.300s", r.Method, r.URL, resp.StatusCode, body)
	}
	var e app.Echo
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("echo body is not JSON: %v: %.300s", err, body)
	}
	return e
}

func TestEcho(t *testing.T) {
	a := loadApp(t, "basic")
	type row struct {
		name  string
		req   func() *http.Request
		opts  []app.RenderOption
		check func(t *testing.T, e app.Echo)
		ref   string
	}
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	bin := make([]byte, 256)
	for i := range bin {
		bin[i] = byte(i)
	}
	rows := []row{
		{
			name: "raw path", ref: "SPEC HTTP-2, astro-behavior §1: Astro.request.url keeps the raw path; params decoded",
			req: func() *http.Request { return newRequest("GET", "/api/echo-path/caf%C3%A9/a%2Fb/100%25", nil) },
			check: func(t *testing.T, e app.Echo) {
				if e.RawPath != "/api/echo-path/caf%C3%A9/a%2Fb/100%25" {
					t.Errorf("rawPath %q", e.RawPath)
				}
				if e.Params["path"] != "café/a%2Fb/100%" {
					t.Errorf("params %v", e.Params)
				}
				// Astro.url.pathname: decoded, then encoded again by the
				// WHATWG pathname setter, which leaves '%' alone.
				if e.Pathname != "/api/echo-path/caf%C3%A9/a%2Fb/100%" {
					t.Errorf("pathname %q", e.Pathname)
				}
			},
		},
		{
			name: "double slash and double encoding", ref: "astro-behavior §1: Astro.request.url keeps the raw path (//about, /blog/%2561), Astro.url is normalized",
			req: func() *http.Request { return newRequest("GET", "//api/echo-path/%2561", nil) },
			check: func(t *testing.T, e app.Echo) {
				if e.RawPath != "//api/echo-path/%2561" || e.Pathname != "/api/echo-path/a" || e.Params["path"] != "a" {
					t.Errorf("rawPath %q pathname %q params %v", e.RawPath, e.Pathname, e.Params)
				}
				if e.URL != "http://example.com//api/echo-path/%2561" {
					t.Errorf("url %q", e.URL)
				}
			},
		},
		{
			name: "raw query", ref: "SPEC HTTP-3, HTTP-4: the query reaches the App byte for byte, repeated values in order",
			req: func() *http.Request {
				return newRequest("GET", "/api/echo?path=/book/%7Bid%7D&p=a%2Bb&q=a+b&x=%3Fa%3Db&a=1&a=2&b=x,y&flag", nil)
			},
			check: func(t *testing.T, e app.Echo) {
				if e.RawQuery != "path=/book/%7Bid%7D&p=a%2Bb&q=a+b&x=%3Fa%3Db&a=1&a=2&b=x,y&flag" {
					t.Errorf("rawQuery %q", e.RawQuery)
				}
				want := map[string][]string{"path": {"/book/{id}"}, "p": {"a+b"}, "q": {"a b"}, "x": {"?a=b"}, "a": {"1", "2"}, "b": {"x,y"}, "flag": {""}}
				if !maps.EqualFunc(e.Query, want, slices.Equal) {
					t.Errorf("query %v, want %v", e.Query, want)
				}
				if !strings.HasSuffix(e.URL, "/api/echo?"+e.RawQuery) {
					t.Errorf("url %q", e.URL)
				}
			},
		},
		{
			name: "repeated headers and host", ref: "astro-behavior §11: request.url uses the Host header verbatim, X-Forwarded-* ignored but still visible; SPEC HTTP-7",
			req: func() *http.Request {
				r := newRequest("GET", "/api/echo", nil)
				r.Host = "custom-host.test:8080"
				r.Header["X-Multi"] = []string{"a", "b"}
				r.Header.Set("X-Forwarded-Host", "evil.example")
				r.Header.Set("X-Forwarded-Proto", "https")
				r.Header.Set("X-Forwarded-For", "198.51.100.1")
				r.Header.Set("Cookie", "a=1; b=2")
				r.Header.Set("X-Name", "café")
				return r
			},
			check: func(t *testing.T, e app.Echo) {
				if e.URL != "http://custom-host.test:8080/api/echo" {
					t.Errorf("url %q", e.URL)
				}
				for k, want := range map[string][]string{
					"x-multi": {"a", "b"}, "x-forwarded-host": {"evil.example"}, "x-forwarded-proto": {"https"},
					"cookie": {"a=1; b=2"}, "host": {"custom-host.test:8080"}, "x-name": {"café"},
				} {
					if !slices.Equal(e.Headers[k], want) {
						t.Errorf("header %s = %q, want %q", k, e.Headers[k], want)
					}
				}
				if e.ClientAddress != nil {
					t.Errorf("clientAddress %q without ClientAddress, want null (not X-Forwarded-For)", *e.ClientAddress)
				}
			},
		},
		{
			name: "client address and locals", ref: "astro-behavior §11: clientAddress is the socket address given by the adapter; Astro.locals reach the route",
			req:  func() *http.Request { return newRequest("GET", "/api/echo", nil) },
			opts: []app.RenderOption{app.ClientAddress("127.0.0.1"), app.Locals(map[string]any{"user": "ada", "n": 1.0})},
			check: func(t *testing.T, e app.Echo) {
				if e.ClientAddress == nil || *e.ClientAddress != "127.0.0.1" {
					t.Errorf("clientAddress %v", e.ClientAddress)
				}
				if e.Locals["user"] != "ada" || e.Locals["n"] != 1.0 {
					t.Errorf("locals %v", e.Locals)
				}
			},
		},
		{
			name: "1 MiB body", ref: "astro-behavior §3: a 1 MiB POST arrived intact (#83)",
			req: func() *http.Request { return newRequest("POST", "/api/echo", bytes.NewReader(big)) },
			check: func(t *testing.T, e app.Echo) {
				if e.BodyLength != len(big) || e.BodySHA256 != sum(big) || e.BodyBase64 != "" {
					t.Errorf("length %d sha %s base64 %d bytes", e.BodyLength, e.BodySHA256, len(e.BodyBase64))
				}
			},
		},
		{
			name: "body of exactly EchoBodyLimit bytes", ref: "the echo repeats a body up to EchoBodyLimit, and reports its length and hash",
			req: func() *http.Request {
				return newRequest("POST", "/api/echo", bytes.NewReader(big[:app.EchoBodyLimit]))
			},
			check: func(t *testing.T, e app.Echo) {
				got, _ := base64.StdEncoding.DecodeString(e.BodyBase64)
				if e.BodyLength != app.EchoBodyLimit || e.BodySHA256 != sum(big[:app.EchoBodyLimit]) || !bytes.Equal(got, big[:app.EchoBodyLimit]) {
					t.Errorf("length %d sha %s, %d bytes repeated", e.BodyLength, e.BodySHA256, len(got))
				}
			},
		},
		{
			name: "body of EchoBodyLimit+1 bytes", ref: "a body over EchoBodyLimit is reported by length and hash only",
			req: func() *http.Request {
				return newRequest("POST", "/api/echo", bytes.NewReader(big[:app.EchoBodyLimit+1]))
			},
			check: func(t *testing.T, e app.Echo) {
				if e.BodyLength != app.EchoBodyLimit+1 || e.BodySHA256 != sum(big[:app.EchoBodyLimit+1]) || e.BodyBase64 != "" {
					t.Errorf("length %d sha %s base64 %d bytes", e.BodyLength, e.BodySHA256, len(e.BodyBase64))
				}
			},
		},
		{
			name: "binary body", ref: "SPEC HTTP-12: bytes 0..255 reach the App intact",
			req: func() *http.Request { return newRequest("POST", "/api/echo", bytes.NewReader(bin)) },
			check: func(t *testing.T, e app.Echo) {
				got, _ := base64.StdEncoding.DecodeString(e.BodyBase64)
				if !bytes.Equal(got, bin) || e.BodySHA256 != sum(bin) {
					t.Errorf("binary body changed: %x", got)
				}
			},
		},
		{
			name: "empty body", ref: `astro-behavior §3: an empty body gives ""`,
			req: func() *http.Request { return newRequest("POST", "/api/echo", http.NoBody) },
			check: func(t *testing.T, e app.Echo) {
				if e.BodyLength != 0 || e.BodySHA256 != sum(nil) {
					t.Errorf("length %d", e.BodyLength)
				}
			},
		},
		{
			name: "method", ref: "SPEC HTTP-1: the method reaches an ALL handler unchanged",
			req: func() *http.Request { return newRequest("PROPFIND", "/api/echo-all", nil) },
			check: func(t *testing.T, e app.Echo) {
				if e.Method != "PROPFIND" || e.Route != "/api/echo-all" {
					t.Errorf("method %q route %q", e.Method, e.Route)
				}
			},
		},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			t.Log(row.ref)
			row.check(t, echoOf(t, a, row.req(), row.opts...))
		})
	}
}

func TestBinaryAndLarge(t *testing.T) {
	a := loadApp(t, "basic")
	resp, body := get(t, a, "GET", "/api/binary")
	want := make([]byte, 256)
	for i := range want {
		want[i] = byte(i)
	}
	if resp.StatusCode != 200 || !bytes.Equal(body, want) || resp.Header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("binary: status %d, %d bytes, type %q; want 256 bytes 0..255 (astro-behavior §9, #149)", resp.StatusCode, len(body), resp.Header.Get("Content-Type"))
	}

	resp = a.Render(newRequest("GET", "/api/large", nil))
	if resp.ContentLength != -1 {
		t.Errorf("large: ContentLength %d, want -1 (astro-behavior §9: chunked, no Content-Length)", resp.ContentLength)
	}
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); n != 5242900 || got != resp.Header.Get(app.BodySHA256Header) {
		t.Errorf("large: %d bytes, sha %s, header %s; want 5,242,900 bytes matching X-Body-Sha256 (astro-behavior §9, #150)", n, got, resp.Header.Get(app.BodySHA256Header))
	}
}

// TestStream checks order and spacing only, with lower bounds (a timer never
// fires early), so a slow machine cannot make it fail.
func TestStream(t *testing.T) {
	a := loadApp(t, "basic")
	const delay = 40 * time.Millisecond
	start := time.Now()
	resp := a.Render(newRequest("GET", fmt.Sprintf("/api/stream?%s=%d", app.StreamDelayParam, delay/time.Millisecond), nil))
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != -1 {
		t.Fatalf("status %d, ContentLength %d; want 200 and -1 (streamed)", resp.StatusCode, resp.ContentLength)
	}
	br := bufio.NewReader(resp.Body)
	var at []time.Duration
	for i := 1; i <= 3; i++ {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
		at = append(at, time.Since(start))
		if want := fmt.Sprintf("chunk %d of 3\n", i); line != want {
			t.Fatalf("chunk %d is %q, want %q (order)", i, line, want)
		}
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("after 3 chunks: %v, want EOF", err)
	}
	// astro-behavior §9: the chunks arrive at about 0, 300 and 600 ms (#153),
	// so nothing is buffered. Here the delay is 40 ms: the last chunk comes at
	// least ~2 delays after the first, and the first well before the last.
	if gap := at[2] - at[0]; gap < 3*delay/2 {
		t.Errorf("chunks 1 and 3 are %v apart, want at least %v (spaced, not buffered): %v", gap, 3*delay/2, at)
	}
	if at[0] >= at[2]-delay {
		t.Errorf("first chunk at %v, last at %v: the first one was held back", at[0], at[2])
	}
}

func TestStreamStopsOnCancel(t *testing.T) {
	a := loadApp(t, "basic")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := newRequest("GET", "/api/stream?"+app.StreamDelayParam+"=10000", nil).WithContext(ctx)
	resp := a.Render(r)
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || line != "chunk 1 of 3\n" {
		t.Fatalf("first chunk %q, %v", line, err)
	}
	cancel()
	done := make(chan error, 1)
	go func() {
		_, err := br.ReadString('\n')
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("read after cancel: %v, want context.Canceled (the stream stops)", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stream kept waiting after the request was cancelled (SPEC ROBUST-6)")
	}
}

// TestOddRequests: Render never panics, whatever it is handed, and a path it
// cannot decode gives 400 (astro-behavior §1, §6).
func TestOddRequests(t *testing.T) {
	a := loadApp(t, "basic")
	with500 := loadApp(t, "with-500")
	stream := a.Match(newRequest("GET", "/api/stream", nil))
	echo := a.Match(newRequest("GET", "/api/echo", nil))
	stream500 := with500.Match(newRequest("GET", "/api/stream", nil))
	rows := []struct {
		name   string
		a      *app.App
		req    *http.Request
		opts   []app.RenderOption
		status int // 0: any
		ref    string
	}{
		{"nil request", a, nil, nil, 400, "the Go App answers a nil request with 400"},
		{"no URL", a, &http.Request{Method: "GET"}, nil, 200, "no URL is the path /"},
		{"zero request", a, &http.Request{}, nil, 200, "an empty method, no header, no body"},
		{"no header, no body", a, &http.Request{Method: "POST", URL: &url.URL{Path: "/api/echo"}}, nil, 403, "astro-behavior §3: a bare POST has no content type and no Origin, so the origin check refuses it"},
		{"no header, no body, same origin", a, &http.Request{Method: "POST", URL: &url.URL{Path: "/api/echo"}, Header: http.Header{"Origin": {"http://localhost"}}}, nil, 200, "echo of a bare request from its own origin (no Host: localhost)"},
		{"relative path", a, &http.Request{Method: "GET", URL: &url.URL{Path: "about"}}, nil, 200, "a path without its leading slash"},
		{"opaque URL", a, &http.Request{Method: "GET", URL: &url.URL{Scheme: "http", Opaque: "//x/about"}}, nil, 0, "an opaque URL"},
		{"bad RawPath", a, &http.Request{Method: "GET", URL: &url.URL{Path: "/about", RawPath: "/%zz"}}, nil, 200, "a RawPath that does not fit Path is ignored"},
		{"control bytes", a, &http.Request{Method: "GET", URL: &url.URL{Path: "/blog/\x00\r\n"}}, nil, 200, "control bytes in the path are escaped"},
		{"invalid UTF-8", a, &http.Request{Method: "GET", URL: &url.URL{Path: "/blog/\xff\xfe"}}, nil, 200, "raw bytes escape to a malformed sequence, kept as written"},
		{"11 levels", a, newRequest("GET", enc11, nil), nil, 400, "astro-behavior §1: a path the App cannot decode gives 400"},
		{"failing body", a, newRequest("POST", "/api/echo", iotestErrReader{}), nil, 500, "astro-behavior §6: a route that fails gives an empty 500"},
		{"cancelled", a, newRequest("GET", "/about", nil).WithContext(cancelled()), nil, 200, "a cancelled context does not stop a page"},
		{"route without URL", a, &http.Request{Method: "GET"}, []app.RenderOption{app.WithRoute(stream)}, 500, "astro-behavior §6: a failure inside a route is a 500 without a stack"},
		{"echo without URL", a, &http.Request{Method: "GET"}, []app.RenderOption{app.WithRoute(echo)}, 0, "no panic"},
		{"500 page shows no panic", with500, &http.Request{Method: "GET"}, []app.RenderOption{app.WithRoute(stream500)}, 500, "astro-behavior §6: the 500 page gets error.message, never a stack or the word panic"},
		{"unvalidated route", a, newRequest("GET", "/x/1", nil), []app.RenderOption{app.WithRoute(&app.Route{Pattern: "/x/[id]", Type: app.RoutePage})}, 200, "a hand-built RouteData still gets its params"},
		{"unvalidated route not fitting", a, newRequest("GET", "/nope", nil), []app.RenderOption{app.WithRoute(&app.Route{Pattern: "/x/[id]", Type: app.RoutePage})}, 500, "astro-behavior §6: Missing parameter"},
		{"empty route", a, newRequest("GET", "/nope", nil), []app.RenderOption{app.WithRoute(&app.Route{})}, 0, "a zero Route"},
		{"endpoint route without handlers", a, newRequest("GET", "/nope", nil), []app.RenderOption{app.WithRoute(&app.Route{Pattern: "/nope", Type: app.RouteEndpoint})}, 404, "astro-behavior §3: no handler for the method: 404 page"},
		{"nil options", a, newRequest("GET", "/about", nil), []app.RenderOption{nil, nil}, 200, "nil options are ignored"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("Render panicked: %v", p)
				}
			}()
			resp := row.a.Render(row.req, row.opts...)
			if resp == nil || resp.Body == nil || resp.Header == nil {
				t.Fatalf("Render returned %#v", resp)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			checkNoLeak(t, body)
			if bytes.Contains(body, []byte("panic")) {
				t.Errorf("body mentions panic: %s", body)
			}
			if row.status != 0 && resp.StatusCode != row.status {
				t.Errorf("status %d, want %d (%s)", resp.StatusCode, row.status, row.ref)
			}
			if row.req != nil {
				row.a.Match(row.req)
				row.a.MatchParams(row.req)
			}
		})
	}
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// TestConcurrentRender: one App serves many goroutines (run with -race).
func TestConcurrentRender(t *testing.T) {
	a := loadApp(t, "basic")
	targets := map[string]string{"/": "/", "/about": "/about", "/blog/x": "/blog/[slug]", "/docs/a/b": "/docs/[...path]", "/nope": "/404", "/page-cookies": "/page-cookies"}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for target, route := range targets {
				resp := a.Render(newRequest("GET", target, nil), app.AddCookieHeader(), app.ClientAddress(fmt.Sprint(i)))
				body, _ := io.ReadAll(resp.Body)
				if p, ok := parsePage(body); !ok || p.route != route {
					t.Errorf("%s rendered %q, want %q", target, p.route, route)
				}
				if m := a.Match(newRequest("GET", target, nil)); target != "/nope" && (m == nil || m.Pattern != route) {
					t.Errorf("Match(%s) = %v", target, m)
				}
			}
		})
	}
	wg.Wait()
}

func TestObserver(t *testing.T) {
	m := loadManifest(t, "basic")
	var seen []string
	m.Observer = func(r *http.Request, resp *http.Response) {
		seen = append(seen, fmt.Sprint(r.URL.Path, " ", resp.StatusCode))
	}
	a, err := app.New(m)
	if err != nil {
		t.Fatal(err)
	}
	get(t, a, "GET", "/about")
	get(t, a, "GET", "/nope")
	a.Render(nil)
	if want := []string{"/about 200", "/nope 404"}; !slices.Equal(seen, want) {
		t.Errorf("observer saw %q, want %q", seen, want)
	}
}
