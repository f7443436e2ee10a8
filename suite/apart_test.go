package suite_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

// servedRequest is one request a recording adapter served: which of its
// instances (CreateExports calls) served it, and when.
type servedRequest struct {
	instance   int
	target     string
	start, end time.Time
}

// recordingAdapter is the good handler adapter, numbering each instance
// it creates and recording every request each one serves.
type recordingAdapter struct {
	mu        sync.Mutex
	instances int
	served    []servedRequest
}

func (r *recordingAdapter) integration() app.Integration {
	return wrappedGoodHandler("recording", func(h http.Handler) http.Handler {
		r.mu.Lock()
		r.instances++
		n := r.instances
		r.mu.Unlock()
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			start := time.Now()
			h.ServeHTTP(w, req)
			r.mu.Lock()
			r.served = append(r.served, servedRequest{instance: n, target: req.URL.RequestURI(), start: start, end: time.Now()})
			r.mu.Unlock()
		})
	})
}

// TestLongWaitRunsApart: HTTP-16's 1.2 s stream (issue 19 item 1) goes to
// an instance of the adapter that serves nothing else, and the run's other
// requests go on while it streams. Both halves matter: on the run's own
// instance the overlap would let a stateful adapter's answers depend on
// timing, and without the overlap the wait is not hidden.
func TestLongWaitRunsApart(t *testing.T) {
	rec := &recordingAdapter{}
	res, err := suite.Run(nil, runner.InProcess("recording", rec.integration()), suite.Quiet())
	if err != nil {
		t.Fatal(err)
	}
	if f := res.Failed(); len(f) > 0 {
		t.Fatalf("the good adapter failed %v", f)
	}
	stream := "/api/stream?delayMillis=600"
	var streams []servedRequest
	for _, s := range rec.served {
		if s.target == stream {
			streams = append(streams, s)
		}
	}
	if len(streams) != 1 {
		t.Fatalf("HTTP-16's stream %s was served %d times, want once (the handler host)", stream, len(streams))
	}
	apart := streams[0]
	overlapped := 0
	for _, s := range rec.served {
		if s.target == stream {
			continue
		}
		if s.instance == apart.instance {
			t.Errorf("instance %d, HTTP-16's, also served %s: it is not an instance of its own", apart.instance, s.target)
		}
		if s.start.After(apart.start) && s.start.Before(apart.end) {
			overlapped++
		}
	}
	if overlapped == 0 {
		t.Errorf("no other request was served while HTTP-16's stream was in flight (%v to %v): its wait was not overlapped",
			apart.start.Format(time.StampMilli), apart.end.Format(time.StampMilli))
	}
	if !strings.Contains(strings.Join(res.Passed(), " "), "HTTP-16") {
		t.Errorf("HTTP-16 did not pass; passed: %v", res.Passed())
	}
	t.Logf("%d instances; %d requests served while HTTP-16's stream was in flight", rec.instances, overlapped)
}
