package runner

import (
	"io"
	"net"
	"net/http"
	"testing"
)

// TestDualListenerServesBothLoopbacks: one server on the dual listener
// answers on 127.0.0.1 and on ::1, sees each peer as it is, reports the
// IPv4 address, and closing it closes both (DIFF-5's peer dimension).
func TestDualListenerServesBothLoopbacks(t *testing.T) {
	v6 := listenLoopback6()
	if v6 == nil {
		t.Skip("this machine has no IPv6 loopback (::1)")
	}
	v4, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := newDualListener(v4, v6)
	if ln.Addr().String() != v4.Addr().String() {
		t.Errorf("Addr = %s, want the IPv4 listener's %s", ln.Addr(), v4.Addr())
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		io.WriteString(w, host)
	})}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for base, peer := range map[string]string{"http://" + ln.Addr().String(): "127.0.0.1", ipv6URL(ln): "::1"} {
		resp, err := client.Get(base + "/")
		if err != nil {
			t.Fatalf("GET %s: %v", base, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != peer {
			t.Errorf("GET %s: the server saw peer %q, want %q", base, b, peer)
		}
	}
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-served; err == nil || err == http.ErrServerClosed {
		t.Errorf("Serve returned %v after Close, want the closed listener's error", err)
	}
	for _, addr := range []string{v4.Addr().String(), v6.Addr().String()} {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			t.Errorf("%s still accepts after Close", addr)
		}
	}
	if ipv6URL(v4) != "" {
		t.Errorf("ipv6URL of a plain listener = %q, want none", ipv6URL(v4))
	}
}
