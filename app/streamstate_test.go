package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/adapterconformance/adapter-conformance/app"
)

// streamStateOf asks the App what became of a tagged stream.
func streamStateOf(t *testing.T, a *app.App, tag string) string {
	t.Helper()
	resp := a.Render(newRequest("GET", "/api/stream-state/"+tag, nil))
	defer resp.Body.Close()
	var s app.StreamState
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || s.Tag != tag {
		t.Fatalf("stream-state for %s: %+v, %v", tag, s, err)
	}
	return s.State
}

// waitState polls until the tagged stream reaches want, or fails.
func waitState(t *testing.T, a *app.App, tag, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := streamStateOf(t, a, tag)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream %s is %q, want %q", tag, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStreamStateReportsWhatEndedTheStream: ROBUST-9 tells a cancelled
// request context from a body the adapter closed, and both from a stream
// that ran to its end.
func TestStreamStateReportsWhatEndedTheStream(t *testing.T) {
	a := loadApp(t, "basic")
	if got := streamStateOf(t, a, "never-started"); got != app.StreamUnknown {
		t.Errorf("an unknown tag is %q, want %q", got, app.StreamUnknown)
	}
	stream := func(ctx context.Context, tag, delay string) (*bufio.Reader, io.Closer) {
		r := newRequest("GET", "/api/stream?"+app.StreamDelayParam+"="+delay, nil).WithContext(ctx)
		r.Header.Set(app.StreamTagHeader, tag)
		resp := a.Render(r)
		br := bufio.NewReader(resp.Body)
		if line, err := br.ReadString('\n'); err != nil || line != "chunk 1 of 3\n" {
			t.Fatalf("first chunk %q, %v", line, err)
		}
		return br, resp.Body
	}

	br, body := stream(context.Background(), "whole", "0")
	io.Copy(io.Discard, br)
	body.Close()
	waitState(t, a, "whole", app.StreamComplete)

	ctx, cancel := context.WithCancel(context.Background())
	_, body = stream(ctx, "cancelled", "10000")
	if got := streamStateOf(t, a, "cancelled"); got != app.StreamRunning {
		t.Errorf("a stream still running is %q, want %q", got, app.StreamRunning)
	}
	cancel()
	waitState(t, a, "cancelled", app.StreamCancelled)
	body.Close()

	_, body = stream(context.Background(), "abandoned", "20")
	body.Close()
	waitState(t, a, "abandoned", app.StreamAbandoned)
}
