package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Echo is what the echo action returns as JSON: everything the App received,
// so that a check can compare it with what the client sent.
type Echo struct {
	Route    string `json:"route"`
	Method   string `json:"method"`
	URL      string `json:"url"`      // Astro.request.url: absolute, raw path and query
	Pathname string `json:"pathname"` // Astro.url.pathname: decoded, then encoded again as a WHATWG URL does
	RawPath  string `json:"rawPath"`  // the encoded path as received
	RawQuery string `json:"rawQuery"`
	// Query holds every value of every parameter in the order received.
	Query map[string][]string `json:"query"`
	// Headers has lowercase names and every value, in order; "host" is the
	// Host the App saw.
	Headers       map[string][]string `json:"headers"`
	Params        map[string]string   `json:"params"`
	BodyLength    int                 `json:"bodyLength"`
	BodySHA256    string              `json:"bodySha256"`
	BodyBase64    string              `json:"bodyBase64,omitempty"` // only up to EchoBodyLimit bytes
	ClientAddress *string             `json:"clientAddress"`
	Locals        map[string]any      `json:"locals,omitempty"`
}

// EchoBodyLimit bounds the body bytes an echo repeats; larger bodies are
// reported by length and hash only.
const EchoBodyLimit = 64 << 10

// BodySHA256Header carries the hex SHA-256 of a generated body (large), so
// any client can check it arrived intact.
const BodySHA256Header = "X-Body-Sha256"

func (c *renderContext) runAction(a *Action) (*result, error) {
	switch a.Kind {
	case "echo":
		return c.echo()
	case "text":
		st := a.Status
		if st == 0 {
			st = http.StatusOK
		}
		ct := a.ContentType
		if ct == "" {
			ct = "text/plain;charset=utf-8"
		}
		res := bytesResult(st, ct, []byte(a.Body))
		res.statusText = a.StatusText
		for _, h := range a.Headers {
			res.header.Add(h.Name, h.Value)
		}
		return res, nil
	case "status":
		return statusResult(c.param("code"))
	case "cookies":
		res := bytesResult(http.StatusOK, "application/json", []byte(`{"cookies":true}`))
		for _, raw := range a.RawCookies {
			res.header.Add("Set-Cookie", raw)
		}
		for _, ck := range a.Cookies {
			c.cookies = append(c.cookies, serializeCookie(ck))
		}
		return res, nil
	case "binary":
		b := make([]byte, 256)
		for i := range b {
			b[i] = byte(i)
		}
		return bytesResult(http.StatusOK, "application/octet-stream", b), nil
	case "stream":
		return c.stream(a), nil
	case "stream-state":
		return c.streamState()
	case "large":
		body, sum := LargeBody(a.Size)
		res := bytesResult(http.StatusOK, "application/octet-stream", body)
		res.header.Set(BodySHA256Header, sum)
		// Astro streams it chunked without a Content-Length (astro-behavior.md 9).
		res.length = -1
		return res, nil
	case "headers":
		res := bytesResult(http.StatusOK, "text/plain;charset=utf-8", []byte("headers"))
		for _, h := range a.Headers {
			res.header.Add(h.Name, h.Value)
		}
		return res, nil
	case "redirect":
		return locationResult(a.Status, a.Location), nil
	case "throws":
		return nil, &routeError{msg: "endpoint " + c.route.Pattern + " threw an intentional error"}
	case "null":
		return nullResult(orOK(a.Status)), nil
	case "invalid-status":
		// new Response(body, {status: NaN}) throws a RangeError.
		return nil, &routeError{msg: "RangeError: invalid status code NaN"}
	}
	return nil, &routeError{msg: "unknown action " + a.Kind}
}

// statusResult is /api/status/[code]: the status passed through with a body
// and a custom statusText, except 204/205/304 which have neither body nor
// content type, and codes outside 200..599, which fail like JavaScript's
// Response constructor (astro-behavior.md 7).
func statusResult(raw string) (*result, error) {
	code, err := strconv.Atoi(raw)
	if err != nil || code < 200 || code > 599 {
		return nil, &routeError{msg: fmt.Sprintf("RangeError: invalid status code %q", raw)}
	}
	var res *result
	switch code {
	case http.StatusNoContent, http.StatusResetContent, http.StatusNotModified:
		res = nullResult(code)
	default:
		res = bytesResult(code, "text/plain;charset=utf-8", []byte("status "+raw))
		res.statusText = "Custom " + raw
	}
	if code >= 300 && code < 400 && code != http.StatusNotModified {
		res.header.Set("Location", "/about")
	}
	return res, nil
}

// RequestURL is Astro.request.url as the App sees it: the Host the request
// carries (never X-Forwarded-Host, astro-behavior.md 11), the raw path and
// the raw query, without a fragment.
func RequestURL(r *http.Request) string {
	scheme, host := requestSchemeHost(r)
	u := scheme + "://" + host + requestPath(r)
	if q := requestQuery(r); q != "" {
		u += "?" + q
	}
	return u
}

// requestSchemeHost is the scheme and host of the request URL the App
// builds: https when the request came over TLS, else http, and the Host the
// request carries ("localhost" when it carries none).
func requestSchemeHost(r *http.Request) (scheme, host string) {
	scheme = "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host = r.Host
	if host == "" && r.URL != nil {
		host = r.URL.Host
	}
	if host == "" {
		host = "localhost"
	}
	return scheme, host
}

func (c *renderContext) echo() (*result, error) {
	r := c.r
	// The body is hashed as it is read, and only the part an echo may
	// repeat is kept: a large body (the corpus sends 1 MiB) is never held
	// whole, nor copied as a growing buffer would copy it.
	hash := sha256.New()
	var head bytes.Buffer
	var length int64
	if r.Body != nil {
		if n := r.ContentLength; n > 0 {
			// Room for the kept part at once, not grown by doubling
			// (each growth a copy, which the race detector makes costly).
			head.Grow(int(min(n, EchoBodyLimit+1)) + bytes.MinRead)
		}
		n, err := head.ReadFrom(io.TeeReader(io.LimitReader(r.Body, EchoBodyLimit+1), hash))
		if err == nil && n > EchoBodyLimit {
			// Only a body longer than the limit has a rest; io.Copy would
			// make its 32 KiB buffer for every other body too.
			var rest int64
			rest, err = io.Copy(hash, r.Body)
			n += rest
		}
		if err != nil {
			return nil, &routeError{msg: "reading the request body: " + err.Error()}
		}
		length = n
	}
	e := Echo{
		Route:      c.route.Pattern,
		Method:     r.Method,
		URL:        RequestURL(r),
		Pathname:   c.pathname,
		RawPath:    requestPath(r),
		RawQuery:   requestQuery(r),
		Query:      orderedQuery(requestQuery(r)),
		Headers:    map[string][]string{},
		Params:     c.paramsMap(),
		BodyLength: int(length),
		BodySHA256: hex.EncodeToString(hash.Sum(nil)),
		Locals:     c.o.locals,
	}
	if length <= EchoBodyLimit {
		e.BodyBase64 = base64.StdEncoding.EncodeToString(head.Bytes())
	}
	if c.o.hasClient {
		addr := c.o.clientAddress
		e.ClientAddress = &addr
	}
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		e.Headers[lk] = append(e.Headers[lk], vs...)
	}
	if r.Host != "" {
		e.Headers["host"] = []string{r.Host}
	}
	out, err := json.Marshal(e)
	if err != nil {
		return nil, &routeError{msg: "encoding the echo: " + err.Error()}
	}
	return bytesResult(http.StatusOK, "application/json", out), nil
}

// orderedQuery parses a raw query like URLSearchParams: every value kept in
// order, "+" read as a space, a malformed escape kept as written.
func orderedQuery(raw string) map[string][]string {
	q := map[string][]string{}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		q[unescapeQuery(k)] = append(q[unescapeQuery(k)], unescapeQuery(v))
	}
	return q
}

func unescapeQuery(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// StreamDelayParam overrides an action's delay between chunks, in milliseconds.
const StreamDelayParam = "delayMillis"

// stream writes Chunks chunks with DelayMillis between them, so that a client
// can tell a streamed response from a buffered one (B35). It stops when the
// request is cancelled.
func (c *renderContext) stream(a *Action) *result {
	chunks := a.Chunks
	if chunks == 0 {
		chunks = 3
	}
	delay := time.Duration(a.DelayMillis) * time.Millisecond
	if v := c.r.URL.Query().Get(StreamDelayParam); v != "" {
		if ms, err := strconv.Atoi(v); err == nil && ms >= 0 && ms <= 10000 {
			delay = time.Duration(ms) * time.Millisecond
		}
	}
	pr, pw := io.Pipe()
	ctx := c.r.Context()
	tag := c.r.Header.Get(StreamTagHeader)
	mark := func(state string) {
		if tag != "" {
			c.app.streams.set(tag, state)
		}
	}
	mark(StreamRunning)
	go func() {
		for i := range chunks {
			if i > 0 {
				t := time.NewTimer(delay)
				select {
				case <-ctx.Done():
					t.Stop()
					mark(StreamCancelled)
					pw.CloseWithError(ctx.Err())
					return
				case <-t.C:
				}
			}
			if _, err := fmt.Fprintf(pw, "chunk %d of %d\n", i+1, chunks); err != nil {
				mark(StreamAbandoned)
				return
			}
		}
		mark(StreamComplete)
		pw.Close()
	}()
	h := http.Header{}
	h.Set("Content-Type", "text/plain;charset=utf-8")
	return &result{status: http.StatusOK, header: h, body: pr, length: -1}
}

var largeBodies sync.Map // size -> *largeBody

type largeBody struct {
	once sync.Once
	data []byte
	sum  string
}

// LargeBody returns the deterministic body of the large action and its hex
// SHA-256. Bytes vary position by position so a dropped or repeated chunk
// shows. The body is made once per size and shared, not copied for each
// caller (issue 19 item 6: a 5 MB copy per request costs fresh memory,
// which the race detector makes dear): callers only read it, as the large
// action's response does through a bytes.Reader.
func LargeBody(size int) ([]byte, string) {
	v, _ := largeBodies.LoadOrStore(size, &largeBody{})
	lb := v.(*largeBody)
	lb.once.Do(func() {
		// byte(i*7 + i>>8) repeats every 65536 bytes: the first period is
		// computed, the rest copied from it in doubling runs, so that the
		// race detector checks a few ranges rather than each of 5 million
		// writes.
		const period = 1 << 16
		b := make([]byte, size)
		for i := range b[:min(size, period)] {
			b[i] = byte(i*7 + i>>8)
		}
		for n := period; n < size; n *= 2 {
			copy(b[n:], b[:n])
		}
		s := sha256.Sum256(b)
		lb.data, lb.sum = b, hex.EncodeToString(s[:])
	})
	return lb.data, lb.sum
}

// serializeCookie formats a cookie-API cookie as Astro does: the value
// URI-encoded, then Max-Age, Path, HttpOnly, SameSite, Secure (astro-behavior.md 9).
func serializeCookie(c CookieSpec) string {
	var b strings.Builder
	b.WriteString(c.Name + "=" + encodeURIComponent(c.Value))
	if c.MaxAge != 0 {
		b.WriteString("; Max-Age=" + strconv.Itoa(c.MaxAge))
	}
	if c.Path != "" {
		b.WriteString("; Path=" + c.Path)
	}
	if c.HTTPOnly {
		b.WriteString("; HttpOnly")
	}
	if c.SameSite != "" {
		s := strings.ToLower(c.SameSite)
		b.WriteString("; SameSite=" + strings.ToUpper(s[:1]) + s[1:])
	}
	if c.Secure {
		b.WriteString("; Secure")
	}
	return b.String()
}

// encodeURIComponent is JavaScript's: everything but A-Z a-z 0-9 - _ . ! ~ * ' ( ) is escaped.
func encodeURIComponent(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || strings.IndexByte("-_.!~*'()", ch) >= 0 {
			b.WriteByte(ch)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[ch>>4])
		b.WriteByte(hexDigits[ch&15])
	}
	return b.String()
}
