package suite

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/adapterconformance/adapter-conformance/app"
)

func itoa(i int) string { return strconv.Itoa(i) }

// get sends a GET and attaches the exchange to the spec.
func (h *hostEnv) get(ctx context.Context, target string, opts ...reqOpt) *exchange {
	return h.do(ctx, http.MethodGet, target, nil, opts...)
}

// do sends a request, fails the spec when no response came back at all, and
// attaches the exchange to the spec's report.
func (h *hostEnv) do(ctx context.Context, method, target string, body []byte, opts ...reqOpt) *exchange {
	ginkgo.GinkgoHelper()
	ex := h.http.send(ctx, method, target, body, opts...)
	attach(ex)
	return ex
}

// mustRespond fails the spec under the requirement when the request got no
// HTTP response at all (a crash, a hang, a reset).
func mustRespond(ex *exchange) {
	ginkgo.GinkgoHelper()
	Expect(ex.resp).NotTo(BeNil(), explain("an HTTP response", ex))
}

// expectStatus checks the status code under a requirement.
func expectStatus(ex *exchange, want int) {
	ginkgo.GinkgoHelper()
	mustRespond(ex)
	Expect(ex.status()).To(Equal(want), explain("status "+itoa(want), ex))
}

// expectRoute checks that a page body carries the markers of a route.
func expectRoute(ex *exchange, route string, params map[string]string) {
	ginkgo.GinkgoHelper()
	mustRespond(ex)
	got, gotParams, _, ok := app.ParsePageMarkers(ex.body)
	Expect(ok).To(BeTrue(), explain("a page of the App naming route "+route+" in its markers", ex))
	Expect(got).To(Equal(route), explain("the route markers of "+route, ex))
	if params != nil {
		if len(params) == 0 {
			Expect(gotParams).To(BeEmpty(), explain("no params", ex))
		} else {
			Expect(gotParams).To(Equal(params), explain(fmt.Sprintf("params %v", params), ex))
		}
	}
}

// expectMediaType checks the Content-Type's media type.
func expectMediaType(ex *exchange, want string) {
	ginkgo.GinkgoHelper()
	mustRespond(ex)
	mt, _, _ := mime.ParseMediaType(ex.resp.Header.Get("Content-Type"))
	Expect(mt).To(Equal(want), explain("Content-Type "+want, ex))
}

// echoOf decodes the echo endpoint's JSON.
func echoOf(ex *exchange) app.Echo {
	ginkgo.GinkgoHelper()
	expectStatus(ex, http.StatusOK)
	var e app.Echo
	Expect(json.Unmarshal(ex.body, &e)).To(Succeed(), explain("the echo endpoint's JSON", ex))
	return e
}

// rawResponse is a response read off a raw socket, framing and all.
type rawResponse struct {
	statusLine string
	resp       *http.Response
	body       []byte
	raw        string
	after      []byte // bytes after the response, on a closing connection
}

// rawRoundTrip writes a request byte for byte on a fresh connection and
// reads one response for method. It is for what Go's client would smooth
// over: a status line's reason phrase, Content-Length next to chunking,
// headers Go's client refuses to send.
func (h *hostEnv) rawRoundTrip(ctx context.Context, method, request string) (*rawResponse, error) {
	rrs, err := h.rawPipeline(ctx, []string{method}, request)
	if len(rrs) == 0 {
		return nil, err
	}
	return rrs[0], err
}

// rawPipeline writes raw bytes (one or more pipelined requests; "{host}"
// is replaced by the host's address) and reads one response per method, in
// order. It returns the responses read before any error.
func (h *hostEnv) rawPipeline(ctx context.Context, methods []string, request string) ([]*rawResponse, error) {
	u, err := url.Parse(h.host.URL)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(15 * time.Second))
	request = strings.ReplaceAll(request, "{host}", u.Host)
	go io.WriteString(conn, request) // a big pipelined write must not block reading
	rec := &recordingReader{r: conn}
	br := bufio.NewReader(rec)
	var out []*rawResponse
	for _, method := range methods {
		rr := &rawResponse{}
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			rr.raw = rec.String()
			return append(out, rr), err
		}
		// ReadResponse keeps the reason phrase as it came on the wire.
		rr.statusLine = resp.Proto + " " + resp.Status
		rr.resp = resp
		rr.body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		rr.raw = rec.String()
		out = append(out, rr)
		if err != nil {
			return out, err
		}
	}
	if len(out) > 0 && strings.Contains(request, "Connection: close") {
		// Whatever follows the last response on a closing connection was
		// sent where no byte belongs (a body on HEAD, 204 or 304).
		conn.SetReadDeadline(time.Now().Add(time.Second))
		rest, _ := io.ReadAll(br)
		out[len(out)-1].after = rest
		out[len(out)-1].raw = rec.String()
	}
	return out, nil
}

type recordingReader struct {
	r   io.Reader
	buf strings.Builder
}

func (r *recordingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if r.buf.Len() < 4096 {
		r.buf.Write(p[:n])
	}
	return n, err
}

func (r *recordingReader) String() string { return r.buf.String() }

func explainRaw(expected, request string, rr *rawResponse, err error) func() string {
	return func() string {
		var b strings.Builder
		b.WriteString(explain(expected)())
		b.WriteString("raw request:\n  " + strings.ReplaceAll(strings.TrimRight(request, "\r\n"), "\r\n", "\n  ") + "\n")
		if rr != nil {
			b.WriteString("raw response (first 4 KiB):\n  " + strings.ReplaceAll(rr.raw, "\r\n", "\n  ") + "\n")
		}
		if err != nil {
			b.WriteString("error: " + err.Error() + "\n")
		}
		return b.String()
	}
}

// expectAlive checks that the host still answers GET / with 200 (B17).
func (h *hostEnv) expectAlive(ctx context.Context) {
	ginkgo.GinkgoHelper()
	ex := h.get(ctx, "/")
	expectStatus(ex, http.StatusOK)
}
