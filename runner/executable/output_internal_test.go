package executable

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestLogBufferKeepsHeadAndTail: an adapter that logs megabytes and then
// crashes keeps its first lines and its crash, within bounds, and the
// report says how much fell between.
func TestLogBufferKeepsHeadAndTail(t *testing.T) {
	b := newLogBuffer()
	fmt.Fprintln(b, "adapter listening on 127.0.0.2:4321")
	written := 0
	for i := 0; written < 5<<20; i++ {
		n, _ := fmt.Fprintf(b, "GET /about 200 %d %s\n", i, strings.Repeat("x", i%300))
		written += n
	}
	fmt.Fprintln(b, "panic: runtime error: index out of range [3] with length 3")
	out := b.String()
	for _, want := range []string{"adapter listening on 127.0.0.2:4321", "panic: runtime error: index out of range", "bytes of output dropped here"} {
		if !strings.Contains(out, want) {
			t.Errorf("kept output lacks %q", want)
		}
	}
	if !strings.HasSuffix(out, "with length 3\n") {
		t.Errorf("kept output does not end with the last line written: ...%q", out[len(out)-100:])
	}
	if max := logHeadSize + logTailSize + 200; len(out) > max {
		t.Errorf("kept %d bytes, want at most %d", len(out), max)
	}
}

func TestLogBufferSmallOutputIsWhole(t *testing.T) {
	b := newLogBuffer()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				b.Write([]byte("line\n"))
			}
		})
	}
	wg.Wait()
	if out := b.String(); out != strings.Repeat("line\n", 800) {
		t.Errorf("800 lines written concurrently came back as %d bytes: %.100q", len(out), out)
	}
}

// TestCappedBufferKeepsUpToItsLimit: a CappedBuffer keeps the first limit
// bytes, says more came, and accepts every write; Grow (room made ahead
// for a known size) changes none of that, even past the limit.
func TestCappedBufferKeepsUpToItsLimit(t *testing.T) {
	for _, grow := range []int{0, 4, 10, 1 << 20} {
		c := NewCappedBuffer(10)
		c.Grow(grow)
		for _, w := range []string{"0123", "4567", "89ab", "cd"} {
			if n, err := c.Write([]byte(w)); n != len(w) || err != nil {
				t.Fatalf("grow %d: Write(%q) = %d, %v", grow, w, n, err)
			}
		}
		if got := string(c.Bytes()); got != "0123456789" || !c.Truncated() {
			t.Errorf("grow %d: kept %q, truncated %v; want 0123456789, true", grow, got, c.Truncated())
		}
		if cap(c.buf.Bytes()) > 64 && grow > 10 {
			t.Errorf("grow %d: %d bytes of room for a limit of 10", grow, cap(c.buf.Bytes()))
		}
	}
	c := NewCappedBuffer(10)
	c.Write([]byte("0123456789"))
	if c.Truncated() {
		t.Error("exactly the limit is not truncated")
	}
}
