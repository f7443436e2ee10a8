package lambdahost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// StreamContentType is the content type of a result in response
// streaming mode (Function URL InvokeMode RESPONSE_STREAM, API Gateway
// STREAM): a JSON prelude {statusCode,headers,cookies}, 8 NUL bytes, then
// the raw body (aws-lambda-go's LambdaFunctionURLStreamingResponse).
const StreamContentType = "application/vnd.awslambda.http-integration-response"

// streamSeparator ends the prelude of a streamed result.
var streamSeparator = make([]byte, 8)

// streamSink is where an in-process invoker leaves a result in response
// streaming mode, unread, for the gateway that invoked it to stream.
type streamSink struct {
	mu sync.Mutex
	r  io.Reader
}

type streamSinkKey struct{}

func (s *streamSink) put(r io.Reader) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.r = r
}

func (s *streamSink) take() io.Reader {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.r
	s.r = nil
	return r
}

// maxStreamRecord is how much of a streamed body an invocation records:
// all of it, up to the streaming limit.
const maxStreamRecord = MaxStreamResponse

// stream is the gateway's side of response streaming mode: it reads the
// JSON prelude up to the 8 NUL bytes, answers with its status, headers and
// cookies (each a Set-Cookie line), then sends the body as it comes,
// flushing after every read, so that the client gets the first chunk before
// the function has produced the last. Without w the body is read in full.
// The stream is closed when it ends, at the function's timeout (ctx) and
// when the client leaves (reqCtx).
func (g *Gateway) stream(ctx, reqCtx context.Context, inv *Invocation, stream io.Reader, w http.ResponseWriter) (wrote bool) {
	inv.Streamed = true
	var closeOnce sync.Once
	closeStream := func() {
		closeOnce.Do(func() {
			if c, ok := stream.(io.Closer); ok {
				c.Close()
			}
		})
	}
	defer closeStream()
	stopTimeout := context.AfterFunc(ctx, closeStream)
	defer stopTimeout()
	stopClient := context.AfterFunc(reqCtx, closeStream)
	defer stopClient()

	// The prelude: JSON, which cannot hold a NUL byte, so the first NUL
	// byte is where the separator begins.
	var head []byte
	buf := make([]byte, 32*1024)
	var rest []byte
	for {
		n, err := stream.Read(buf)
		head = append(head, buf[:n]...)
		if i := bytes.Index(head, streamSeparator); i >= 0 {
			head, rest = head[:i], bytes.Clone(head[i+len(streamSeparator):])
			break
		}
		if len(head) > MaxPayload {
			g.reject(inv, http.StatusBadGateway, OutcomeMalformed, fmt.Sprintf("Malformed Lambda proxy response: the streamed prelude has no 8 NUL bytes in its first %d bytes", MaxPayload))
			return false
		}
		if err != nil {
			inv.Response = head
			why := "the stream ended before the 8 NUL bytes that end its JSON prelude"
			if err != io.EOF {
				why = "reading the stream's prelude: " + err.Error()
			}
			g.reject(inv, http.StatusBadGateway, OutcomeMalformed, "Malformed Lambda proxy response: "+why)
			return false
		}
	}
	inv.Response = head
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(head, &fields); err != nil || fields == nil {
		g.reject(inv, http.StatusBadGateway, OutcomeMalformed, "Malformed Lambda proxy response: the streamed prelude is not a JSON object")
		return false
	}
	if _, ok := fields["statusCode"]; !ok {
		g.reject(inv, http.StatusBadGateway, OutcomeMalformed, "Malformed Lambda proxy response: the streamed prelude has no statusCode")
		return false
	}
	status, header, _, problem := TranslateResponse(g.Shape, head)
	if problem != "" {
		g.reject(inv, http.StatusBadGateway, OutcomeMalformed, "Malformed Lambda proxy response: "+problem)
		return false
	}
	inv.Outcome, inv.Status, inv.Header = OutcomeOK, status, header
	// The streaming limit counts the whole stream, prelude and separator
	// included, as the Runtime API counts its post.
	total := len(head) + len(streamSeparator)
	record := func(b []byte) {
		total += len(b)
		if room := maxStreamRecord - len(inv.Body); room > 0 {
			inv.Body = append(inv.Body, b[:min(len(b), room)]...)
		}
	}
	overLimit := fmt.Errorf("the response passed the %d-byte limit of response streaming", MaxStreamResponse)
	// within cuts b to what the limit still allows, and says whether it
	// had to.
	within := func(b []byte) ([]byte, bool) {
		if room := MaxStreamResponse - total; len(b) > room {
			return b[:max(room, 0)], false
		}
		return b, true
	}
	var rc *http.ResponseController
	send := func(b []byte) error {
		record(b)
		if w == nil || len(b) == 0 {
			return nil
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		return rc.Flush()
	}
	if w != nil {
		for k, vs := range header {
			w.Header()[k] = vs
		}
		w.WriteHeader(status)
		rc = http.NewResponseController(w)
		if err := rc.Flush(); err != nil {
			return true
		}
	}
	chunk, err := rest, error(nil)
	for {
		// Checked before anything is sent: not a byte past the limit
		// reaches the client, even in a read that also ends the stream.
		part, ok := within(chunk)
		if werr := send(part); werr != nil {
			return w != nil // the client left
		}
		if !ok {
			err = overLimit
		}
		if err == io.EOF {
			return w != nil
		}
		if err != nil {
			why := "the body stream failed: " + err.Error()
			var fe *FunctionError
			switch {
			case ctx.Err() != nil || errors.Is(err, errStreamDeadline):
				// Cut by the timeout, whatever the read then saw.
				why = "the body stream did not end within the function's timeout"
			case errors.As(err, &fe):
				inv.FunctionError = fe.Error()
			}
			inv.Outcome, inv.Detail = OutcomeStreamCut, why
			if g.faults != nil {
				g.faults.Add(inv.ID, "LAMBDA gateway: "+OutcomeStreamCut+": "+why)
			}
			return w != nil
		}
		n, rerr := stream.Read(buf)
		chunk, err = buf[:n], rerr
	}
}
