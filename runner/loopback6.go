package runner

import (
	"errors"
	"net"
	"sync"
)

// An in-process host listens on the IPv6 loopback beside the IPv4 one, so
// that the differential corpus can send requests from an IPv6 peer
// (DIFF-5, issue 15): an adapter that takes its clientAddress or its URL's
// host apart by splitting on ":" is only wrong when the peer or the Host is
// an IPv6 literal ("[::1]:41234").

// listenLoopback6 listens on the IPv6 loopback on a free port; nil when the
// machine has none (then the peer dimension is reported as not sent).
func listenLoopback6() net.Listener {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		return nil
	}
	return ln
}

// dualListener accepts from two listeners as one: the IPv4 one, whose
// address it reports (Start and httptest.Server build the host's URL
// from Addr), and the IPv6 one. Closing it closes both.
type dualListener struct {
	v4, v6   net.Listener
	accepted chan accepted
	done     chan struct{}
	once     sync.Once
}

// accepted is what one Accept of an underlying listener gave.
type accepted struct {
	c   net.Conn
	err error
}

// newDualListener serves v4 and, when it is not nil, v6; with no v6 it is
// v4 itself.
func newDualListener(v4, v6 net.Listener) net.Listener {
	if v6 == nil {
		return v4
	}
	d := &dualListener{v4: v4, v6: v6, accepted: make(chan accepted), done: make(chan struct{})}
	go d.pump(v4)
	go d.pump(v6)
	return d
}

// pump hands each of ln's connections, and each of its errors, to Accept
// until ln is closed: a temporary error (out of file descriptors) reaches
// the caller's server, which backs off and accepts again, as it would on
// one listener.
func (d *dualListener) pump(ln net.Listener) {
	for {
		c, err := ln.Accept()
		select {
		case d.accepted <- accepted{c, err}:
		case <-d.done:
			if c != nil {
				c.Close()
			}
			return
		}
		if errors.Is(err, net.ErrClosed) {
			return
		}
	}
}

// Accept returns the next connection from either listener, or the error
// one of them gave; after Close, net.ErrClosed.
func (d *dualListener) Accept() (net.Conn, error) {
	select {
	case a := <-d.accepted:
		return a.c, a.err
	case <-d.done:
		return nil, net.ErrClosed
	}
}

// Close closes both listeners.
func (d *dualListener) Close() error {
	var err error
	d.once.Do(func() {
		close(d.done)
		err = errors.Join(d.v4.Close(), d.v6.Close())
	})
	return err
}

// Addr is the IPv4 listener's address: the host's URL.
func (d *dualListener) Addr() net.Addr { return d.v4.Addr() }

// ipv6URL is the base URL of the IPv6 side of a listener newDualListener
// made, "" for any other listener.
func ipv6URL(ln net.Listener) string {
	if d, ok := ln.(*dualListener); ok {
		return "http://" + d.v6.Addr().String()
	}
	return ""
}
