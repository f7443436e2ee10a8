package app

import (
	"encoding/json"
	"net/http"
	"sync"
)

// StreamTagHeader names a stream (`X-Stream-Tag: x` on `/api/stream`; a
// header, so that it survives an adapter that mangles the query) so that a later
// request can ask what became of it: the "stream-state" action
// (`/api/stream-state/[tag]`) reports it. It lets a client that left
// mid-stream see, over HTTP and in any mode, whether the adapter cancelled
// the App's request context when it left (ROBUST-9, B29).
const StreamTagHeader = "X-Stream-Tag"

// The states of a tagged stream, as "stream-state" reports them.
const (
	// StreamUnknown: no stream with that tag (or it was forgotten).
	StreamUnknown = "unknown"
	// StreamRunning: the stream is still producing chunks.
	StreamRunning = "streaming"
	// StreamCancelled: the request's context ended before the last chunk.
	StreamCancelled = "cancelled"
	// StreamAbandoned: the adapter closed the body before the last chunk,
	// while the request's context was still live.
	StreamAbandoned = "abandoned"
	// StreamComplete: every chunk was produced.
	StreamComplete = "complete"
)

// StreamState is what "stream-state" returns as JSON.
type StreamState struct {
	Tag   string `json:"tag"`
	State string `json:"state"`
}

// streamTagLimit bounds how many tagged streams an App remembers.
const streamTagLimit = 256

// streamLog remembers the state of tagged streams, oldest forgotten first.
type streamLog struct {
	mu    sync.Mutex
	state map[string]string
	order []string
}

func (l *streamLog) set(tag, state string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state == nil {
		l.state = map[string]string{}
	}
	if _, ok := l.state[tag]; !ok {
		l.order = append(l.order, tag)
		if len(l.order) > streamTagLimit {
			delete(l.state, l.order[0])
			l.order = l.order[1:]
		}
	}
	l.state[tag] = state
}

func (l *streamLog) get(tag string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s, ok := l.state[tag]; ok {
		return s
	}
	return StreamUnknown
}

// streamState is the "stream-state" action: the state of the stream whose
// tag is the route's `tag` param.
func (c *renderContext) streamState() (*result, error) {
	tag := c.param("tag")
	b, err := json.Marshal(StreamState{Tag: tag, State: c.app.streams.get(tag)})
	if err != nil {
		return nil, err
	}
	return bytesResult(http.StatusOK, "application/json", b), nil
}
