package suite

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestNewConnectionTriedFromTheSignal: START-4's reaction time counts from
// when the host says the adapter was told to stop, not from when the kit
// asked for the shutdown. Here the "engine" delivers SIGTERM three
// reaction times after the shutdown began, and the server stops taking
// connections when it gets it: a correct adapter, which must pass.
func TestNewConnectionTriedFromTheSignal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	const reaction = 200 * time.Millisecond
	signalled, done := make(chan struct{}), make(chan struct{})
	time.AfterFunc(3*reaction, func() {
		srv.Listener.Close()
		close(signalled)
	})
	answer, err := tryNewConnection(context.Background(), srv.URL, signalled, done, reaction)
	if answer != "" || err == nil {
		t.Errorf("a new connection after the signal got %q (%v), want it refused", answer, err)
	}

	// Without a signal to wait for, answers are retried for the reaction
	// time only: a server that keeps answering fails.
	keeps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer keeps.Close()
	answer, err = tryNewConnection(context.Background(), keeps.URL, nil, done, reaction)
	if answer != "HTTP/1.1 200 OK" || err != nil {
		t.Errorf("a server that never stops: got %q (%v), want its answer", answer, err)
	}
}
