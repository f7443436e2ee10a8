package lambdahost

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Response streaming mode through the Runtime API (adapter-bugs-and-hosts.md
// 2a, LAMBDA-15): a runtime answers an invocation with a chunked POST
// /runtime/invocation/{id}/response that the kit hands to the emulated
// gateway as it arrives, so the client gets the first chunk while the
// function still produces the rest. A runtime is in streaming mode when it
// says so in ResponseModeHeader (the Node.js runtimes) or posts a body of
// StreamContentType (aws-lambda-go posts an
// events.LambdaFunctionURLStreamingResponse chunked with that content type
// and no mode header). A failure after the body began comes in the HTTP
// trailers ErrorTypeTrailer and ErrorBodyTrailer.

const (
	// ResponseModeHeader is the Runtime API request header that asks for
	// response streaming mode; its only value is "streaming".
	ResponseModeHeader = "Lambda-Runtime-Function-Response-Mode"
	// ErrorTypeTrailer and ErrorBodyTrailer report a failure in the middle
	// of a streamed response: the error's type, and its JSON
	// {errorMessage, errorType} base64-encoded.
	ErrorTypeTrailer = "Lambda-Runtime-Function-Error-Type"
	// ErrorBodyTrailer: see ErrorTypeTrailer.
	ErrorBodyTrailer = "Lambda-Runtime-Function-Error-Body"
	// MaxStreamResponse is the response size limit in streaming mode
	// (20 MiB, the documented soft limit; adapter-bugs-and-hosts.md 2a).
	// A stream past it is cut, and the Runtime API answers its post 413.
	MaxStreamResponse = 20 << 20
)

// How a stream ended without its runtime ending it: what reading it
// returns then, so that the gateway blames the function's timeout or the
// kit, not the runtime, for a stream cut short.
var (
	errStreamAbandoned  = errors.New("the gateway stopped reading the stream")
	errStreamDeadline   = errors.New("the function's timeout passed before the stream ended")
	errStreamKitStopped = errors.New("the kit stopped the Runtime API before the stream ended")
)

// responseMode says whether a /response post is in streaming mode, or why
// its mode header is invalid (the Runtime API answers 400).
func responseMode(r *http.Request) (streaming bool, invalid string) {
	if v := r.Header.Get(ResponseModeHeader); v != "" {
		if !strings.EqualFold(v, "streaming") {
			return false, fmt.Sprintf("%s: %q is not a response mode; the only one is streaming", ResponseModeHeader, v)
		}
		return true, ""
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == StreamContentType, ""
}

// runtimeStream is the body of a /response post in streaming mode, read by
// the gateway. The first of its ends (the body's end, a failure, the limit,
// the gateway giving up) decides what the Runtime API answers the post and
// is logged as the post's RuntimeCall.
type runtimeStream struct {
	api *RuntimeAPI
	r   *http.Request
	inv *runtimeInvocation

	mu     sync.Mutex
	n      int64
	status int   // the answer to the post; 0: none can be sent
	err    error // how the stream ended; nil for a clean end

	ended       chan struct{}
	endOnce     sync.Once
	abandoned   chan struct{}
	abandonOnce sync.Once
}

// Read reads the posted body as it arrives.
func (s *runtimeStream) Read(p []byte) (int, error) {
	select {
	case <-s.ended:
		if _, err := s.result(); err != nil {
			return 0, err
		}
		return 0, io.EOF
	case <-s.abandoned:
		return 0, errStreamAbandoned
	default:
	}
	n, err := s.r.Body.Read(p)
	s.mu.Lock()
	s.n += int64(n)
	total := s.n
	s.mu.Unlock()
	if total > MaxStreamResponse {
		n -= int(total - MaxStreamResponse)
		tooLarge := fmt.Errorf("Function.ResponseSizeTooLarge: the streamed response passed the %d-byte streaming limit; the Runtime API answers 413 and the stream is cut", MaxStreamResponse)
		s.finish(http.StatusRequestEntityTooLarge, tooLarge, "streamed response over the streaming limit")
		return max(n, 0), tooLarge
	}
	switch {
	case err == io.EOF:
		// The trailers are read with the body's end.
		if fe := trailerError(s.r.Trailer); fe != nil {
			s.finish(http.StatusAccepted, fe, fmt.Sprintf("streamed %d bytes, then failed (trailers): %s", total, fe.Error()))
			return n, fe
		}
		s.finish(http.StatusAccepted, nil, "streamed "+strconv.FormatInt(total, 10)+" bytes")
		return n, io.EOF
	case err != nil:
		// A read the kit interrupted (the deadline passed, or the kit
		// stopped) is not the runtime's fault; only a post that broke off
		// on its own is.
		select {
		case <-s.ended:
			_, why := s.result()
			return n, why
		default:
		}
		if !time.Now().Before(s.inv.deadline) {
			return n, errStreamDeadline
		}
		cut := &FunctionError{Type: "Runtime.TruncatedResponse", Message: fmt.Sprintf("the runtime's streamed post broke off after %d bytes: %v", total, err)}
		s.finish(0, cut, cut.Message)
		return n, cut
	}
	return n, nil
}

// Close tells the Runtime API that the gateway stopped reading: the client
// left, or the function's timeout passed.
func (s *runtimeStream) Close() error {
	s.abandonOnce.Do(func() { close(s.abandoned) })
	return nil
}

// finish records the stream's end once and logs the post. Only a post
// the Runtime API answers (status != 0) counts as the invocation's
// answer: a post cut off at the deadline leaves the invocation unanswered,
// and its execution environment is ended (Function.Invoke).
func (s *runtimeStream) finish(status int, err error, note string) {
	s.endOnce.Do(func() {
		if status != 0 {
			s.inv.answered.Store(true)
		}
		s.mu.Lock()
		s.status, s.err = status, err
		s.mu.Unlock()
		s.api.logCall(RuntimeCall{Method: s.r.Method, Path: s.r.URL.Path, RequestID: s.inv.id, Status: status, Note: "streaming mode: " + note})
		close(s.ended)
	})
}

func (s *runtimeStream) result() (status int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status, s.err
}

// trailerError is the failure a runtime reported in the trailers of a
// streamed post, or nil.
func trailerError(t http.Header) *FunctionError {
	typ, body := t.Get(ErrorTypeTrailer), t.Get(ErrorBodyTrailer)
	if typ == "" && body == "" {
		return nil
	}
	fe := &FunctionError{Type: typ}
	if raw, err := base64.StdEncoding.DecodeString(body); err == nil {
		var posted FunctionError
		if json.Unmarshal(raw, &posted) == nil {
			fe.Message = posted.Message
			if fe.Type == "" {
				fe.Type = posted.Type
			}
		}
	}
	if fe.Message == "" {
		fe.Message = "the runtime failed after the stream began"
	}
	return fe
}

// streamResponse serves a /response post in streaming mode: it hands the
// body to the gateway unread and answers the post once the body has ended
// (202, or 413 past the streaming limit). When the gateway gives up first
// because its client left, the rest is drained until the invocation's
// deadline and the post still answered 202, so the runtime lives on, as a
// Lambda function keeps running after its caller hangs up. Past the
// deadline the post is cut off unanswered, as the Lambda service ends an
// execution environment whose invocation timed out.
func (api *RuntimeAPI) streamResponse(w http.ResponseWriter, r *http.Request, inv *runtimeInvocation) {
	s := &runtimeStream{api: api, r: r, inv: inv, ended: make(chan struct{}), abandoned: make(chan struct{})}
	inv.done <- runtimeResult{stream: s}
	deadline := time.NewTimer(time.Until(inv.deadline))
	defer deadline.Stop()
	rc := http.NewResponseController(w)
	cutBy := errStreamDeadline
	select {
	case <-s.ended:
	case <-s.abandoned:
		s.drain(rc)
	case <-deadline.C:
	case <-api.closed:
		cutBy = errStreamKitStopped
	}
	if cutBy == errStreamDeadline && !time.Now().Before(inv.deadline) {
		// The invocation's own timer, at the same deadline, ends the
		// execution environment; cut the post (which frees the runtime to
		// poll for the next invocation) only once it has, or after a bound
		// when no runtime process is behind this API.
		select {
		case <-inv.settled:
		case <-time.After(time.Second):
		case <-api.closed:
		}
	}
	s.finish(0, cutBy, cutBy.Error()+"; the post is cut off unanswered")
	switch status, _ := s.result(); status {
	case http.StatusAccepted:
		writeAccepted(w)
	case http.StatusRequestEntityTooLarge:
		// Without this, net/http would first read up to 256 KiB more of
		// the post (to keep the connection), delaying the answer for as
		// long as the runtime takes to send it.
		rc.SetReadDeadline(time.Now())
		writeRuntimeError(w, status, "RequestEntityTooLarge", fmt.Sprintf("Exceeded maximum allowed streamed payload size (%d bytes).", MaxStreamResponse))
	default:
		// Unblock a read still waiting for the runtime, and send nothing:
		// the connection is closed under the runtime's post.
		rc.SetReadDeadline(time.Now())
		panic(http.ErrAbortHandler)
	}
}

// drain reads, unsent, the rest of a stream the gateway gave up on, until
// the stream ends, the streaming limit or the invocation's deadline.
func (s *runtimeStream) drain(rc *http.ResponseController) {
	select {
	case <-s.ended:
		return
	default:
	}
	if !time.Now().Before(s.inv.deadline) {
		return
	}
	rc.SetReadDeadline(s.inv.deadline)
	s.mu.Lock()
	room := MaxStreamResponse - s.n
	s.mu.Unlock()
	n, err := io.CopyN(io.Discard, s.r.Body, room+1)
	switch {
	case err == io.EOF:
		s.finish(http.StatusAccepted, nil, fmt.Sprintf("the gateway stopped reading (its client left); the kit drained the other %d bytes", n))
	case err == nil:
		s.finish(http.StatusRequestEntityTooLarge, nil, "the gateway stopped reading (its client left); the rest passed the streaming limit")
	case time.Now().Before(s.inv.deadline):
		s.finish(0, nil, fmt.Sprintf("the gateway stopped reading (its client left); the post then broke off: %v", err))
	}
}
