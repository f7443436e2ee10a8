package suite

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/adapterconformance/adapter-conformance/app"
)

// pipelineStory says how many responses of a pipeline came back, and
// what ended the connection, in words: "1 (the POST's 405), then the
// connection ended: unexpected EOF".
func pipelineStory(rrs []*rawResponse, err error) string {
	var whole []string
	for _, rr := range rrs {
		if rr.resp != nil {
			whole = append(whole, rr.statusLine)
		}
	}
	s := itoa(len(whole))
	if len(whole) > 0 {
		s += " (" + strings.Join(whole, ", ") + ")"
	}
	switch {
	case err == nil:
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		s += ", then the server closed the connection"
	case errors.Is(err, syscall.ECONNRESET):
		s += ", then the server reset the connection (" + err.Error() + ")"
	default:
		s += ", then the connection failed: " + err.Error()
	}
	return s
}

// registerRobust checks that bad requests get clean answers (ROBUST area).
func registerRobust(h *hostEnv) {
	ginkgo.Describe("robustness", func() {
		h.it("ROBUST-1", "malformed percent-encoding never gives a 5xx", func(ctx ginkgo.SpecContext) {
			for _, p := range []string{"/unicode/%ZZ", "/blog/%E0%A4%A"} {
				ex := h.get(ctx, p)
				mustRespond(ex)
				Expect(ex.status()).To(BeNumerically("<", 500), explain("400 or the App's own answer, never a 5xx", ex))
			}
			h.expectAlive(ctx)
		})
		h.it("ROBUST-2", "a path encoded more than ten times gives 400", func(ctx ginkgo.SpecContext) {
			expectStatus(h.get(ctx, "/blog/%2525252525252525252561"), http.StatusBadRequest)
		})
		h.it("ROBUST-3", "a malformed Host header never gives a 5xx, and the server keeps serving", func(ctx ginkgo.SpecContext) {
			for _, host := range []string{"a:65536", "[::1"} {
				req := "GET /about HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n"
				rr, err := h.rawRoundTrip(ctx, "GET", req)
				Expect(rr).NotTo(BeNil(), explainRaw("a response", req, rr, err))
				Expect(rr.resp).NotTo(BeNil(), explainRaw("a response", req, rr, err))
				Expect(rr.resp.StatusCode).To(BeNumerically("<", 500), explainRaw("400 or the App's ordinary answer, never a 5xx", req, rr, err))
			}
			h.expectAlive(ctx)
		})
		h.it("ROBUST-4", "//host paths never redirect off-site", func(ctx ginkgo.SpecContext) {
			for _, p := range []string{"//evil.example/", "//evil.example/about//"} {
				ex := h.get(ctx, p)
				mustRespond(ex)
				if loc := ex.resp.Header.Get("Location"); loc != "" {
					Expect(strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") && !strings.HasPrefix(loc, "/\\")).To(BeTrue(),
						explain("a Location that is a path starting with exactly one /", ex))
				}
			}
		})
		h.it("ROBUST-5", "an unread body does not stall the keep-alive connection", func(ctx ginkgo.SpecContext) {
			body := strings.Repeat("x", 200_000)
			req := "POST /api/only-get HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\nContent-Type: text/plain\r\nContent-Length: 200000\r\n\r\n" + body +
				"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
			short := "POST /api/only-get (200000 body bytes), then GET / pipelined on the same connection"
			began := time.Now()
			rrs, err := h.rawPipeline(ctx, []string{"POST", "GET"}, req)
			took := time.Since(began)
			var last *rawResponse
			if len(rrs) > 0 {
				last = rrs[len(rrs)-1]
			}
			// rawPipeline returns the response it was reading when the
			// connection failed, with no resp: "two responses" means two
			// read whole, not two entries.
			got := 0
			for _, rr := range rrs {
				if rr.resp != nil {
					got++
				}
			}
			Expect(got).To(Equal(2), explainRaw("two responses on the connection, got "+pipelineStory(rrs, err), short, last, err))
			Expect(rrs[1].resp.StatusCode).To(Equal(http.StatusOK), explainRaw("200 for the pipelined GET /", short, rrs[1], err))
			// The connection's deadline is longer, so that a slow answer is
			// told apart from none; the requirement's bound is 5 s (B26).
			Expect(took).To(BeNumerically("<=", robust5Bound), explainRaw("both responses within "+robust5Bound.String()+", got them after "+took.Round(time.Millisecond).String(), short, rrs[1], err))
		})
		h.it("ROBUST-6", "a client leaving mid-stream does not crash the server", func(ctx ginkgo.SpecContext) {
			sctx, cancel := context.WithCancel(ctx)
			ex := h.http.start(sctx, "GET", streamTarget(), nil)
			attach(ex)
			mustRespond(ex)
			bufio.NewReader(ex.resp.Body).ReadString('\n')
			cancel()
			ex.resp.Body.Close()
			// The server notices the disconnect when it next writes, some
			// time later: it must keep answering throughout, not just once.
			Consistently(func() int {
				return h.http.send(ctx, "GET", "/", nil).status()
			}).WithTimeout(2*streamDelay).WithPolling(streamDelay/4).Should(Equal(http.StatusOK),
				explain("GET / to keep answering 200 after the client left mid-stream", ex))
		})
		h.it("ROBUST-9", "a client leaving mid-stream cancels the App's request context", func(ctx ginkgo.SpecContext) {
			// A tagged stream whose next chunk comes after the 1 s wait, so
			// only a cancelled context can end it within the wait; not
			// much later, so that an adapter that detaches the context
			// still ends the handler soon (at its next, failing write) and
			// a graceful shutdown later in the run need not wait for it.
			tag := "robust9-" + strconv.FormatInt(time.Now().UnixNano(), 36)
			var last *exchange
			state := func() string {
				last = h.http.send(ctx, "GET", "/api/stream-state/"+tag, nil)
				var s app.StreamState
				if last.status() != http.StatusOK || json.Unmarshal(last.body, &s) != nil {
					return "no answer (status " + itoa(last.status()) + ")"
				}
				return s.State
			}
			// The client leaves once the App is streaming, whether or not
			// the adapter has sent anything yet (one that buffers has not).
			sctx, cancel := context.WithCancel(ctx)
			defer cancel()
			done := make(chan *exchange, 1)
			headers := make(chan struct{})
			go func() {
				defer ginkgo.GinkgoRecover()
				ex := h.http.start(sctx, "GET", streamTargetWith(1200*time.Millisecond), nil, header(app.StreamTagHeader, tag))
				close(headers)
				<-sctx.Done()
				if ex.resp != nil {
					ex.resp.Body.Close()
				}
				done <- ex
			}()
			// The state is asked for once the response has begun (or after
			// 300 ms, for an adapter that buffers), not while the adapter
			// may still be taking the stream request in.
			select {
			case <-headers:
			case <-time.After(300 * time.Millisecond):
			}
			Eventually(state).WithTimeout(5*time.Second).WithPolling(20*time.Millisecond).ShouldNot(Equal(app.StreamUnknown),
				func() string {
					return explain("/api/stream-state/"+tag+" to know the tagged stream once the App has it", last)()
				})
			cancel()
			ex := <-done
			attach(ex)
			Eventually(state).WithTimeout(time.Second).WithPolling(50*time.Millisecond).Should(Equal(app.StreamCancelled),
				func() string {
					return explain("the App's request context cancelled within 1 s of the client leaving, so that /api/stream-state/"+tag+
						" reports \"cancelled\" (\"streaming\": the App still works for a client that left; \"abandoned\": the adapter closed the body, but the context was never cancelled)", ex, last)()
				})
		})
		h.it("ROBUST-7", "a UTF-8 header value does not crash the adapter", func(ctx ginkgo.SpecContext) {
			ex := h.get(ctx, "/api/echo", header("X-Name", "café"))
			e := echoOf(ex)
			Expect(e.Headers["x-name"]).To(Equal([]string{"café"}), explain("x-name: café to reach the App", ex))
		})
	})
}

// robust5Bound is ROBUST-5's limit on the POST and the pipelined GET's
// answers together (SPEC.md, B26: Node's server stalled the connection).
const robust5Bound = 5 * time.Second
