package executable

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
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
		room := 0
		for _, chunk := range c.chunks {
			room += cap(chunk)
		}
		if room > 64 && grow > 10 {
			t.Errorf("grow %d: %d bytes of room for a limit of 10", grow, room)
		}
	}
	c := NewCappedBuffer(10)
	c.Write([]byte("0123456789"))
	if c.Truncated() {
		t.Error("exactly the limit is not truncated")
	}
}

// TestCappedBufferKeepsTheFirstBytes: whatever the sizes of the writes, and
// whether the size was announced (Grow), what is kept is the first limit
// bytes written, in order, and Truncated says whether more came.
func TestCappedBufferKeepsTheFirstBytes(t *testing.T) {
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(i * 7 / 5)
	}
	for _, tc := range []struct {
		name         string
		limit, total int
		grow         int
		writes       []int
	}{
		{"one small write", 100, 10, 0, []int{10}},
		{"nothing", 100, 0, 0, nil},
		{"stream of odd writes", 8 << 20, 3 << 20, 0, []int{1, 4095, 4097, 33333, 512}},
		{"announced size", 8 << 20, 3 << 20, 3 << 20, []int{32 << 10}},
		{"announced too small", 8 << 20, 3 << 20, 1 << 20, []int{100 << 10}},
		{"over the limit", 1<<20 + 3, 3 << 20, 0, []int{65536, 7}},
		{"over the limit, announced", 1 << 20, 3 << 20, 3 << 20, []int{65536}},
		{"limit zero", 0, 100, 0, []int{10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCappedBuffer(tc.limit)
			c.Grow(tc.grow)
			for off, i := 0, 0; off < tc.total; i++ {
				n := min(tc.writes[i%len(tc.writes)], tc.total-off)
				if w, err := c.Write(data[off : off+n]); w != n || err != nil {
					t.Fatalf("Write(%d bytes) = %d, %v", n, w, err)
				}
				off += n
			}
			want := data[:min(tc.total, tc.limit)]
			if got := c.Bytes(); string(got) != string(want) {
				t.Errorf("kept %d bytes, want the first %d written", len(got), len(want))
			}
			if c.Truncated() != (tc.total > tc.limit) {
				t.Errorf("Truncated() = %v after %d bytes with limit %d", c.Truncated(), tc.total, tc.limit)
			}
		})
	}
}

// TestCappedBufferReadsUpToItsLimit: ReadUpTo keeps what a reader gives,
// however it splits it, stops reading at the limit (what follows stays
// unread), and passes on a reader's error with what came before it.
func TestCappedBufferReadsUpToItsLimit(t *testing.T) {
	data := make([]byte, 3<<20+17)
	for i := range data {
		data[i] = byte(i * 7 / 5)
	}
	for _, tc := range []struct {
		name  string
		limit int
		r     func(io.Reader) io.Reader
	}{
		{"whole reads", 8 << 20, func(r io.Reader) io.Reader { return r }},
		{"half reads", 8 << 20, iotest.HalfReader},
		{"data then EOF together", 8 << 20, iotest.DataErrReader},
		{"up to the limit", 1<<20 + 3, func(r io.Reader) io.Reader { return r }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := bytes.NewReader(data)
			c := NewCappedBuffer(tc.limit)
			if err := c.ReadUpTo(tc.r(src)); err != nil {
				t.Fatal(err)
			}
			kept := min(len(data), tc.limit)
			if got := c.Bytes(); !bytes.Equal(got, data[:kept]) {
				t.Errorf("kept %d bytes, want the first %d", len(got), kept)
			}
			if src.Len() != len(data)-kept {
				t.Errorf("%d bytes left unread, want %d", src.Len(), len(data)-kept)
			}
		})
	}
	c := NewCappedBuffer(100)
	err := c.ReadUpTo(io.MultiReader(strings.NewReader("before"), iotest.ErrReader(iotest.ErrTimeout)))
	if !errors.Is(err, iotest.ErrTimeout) || string(c.Bytes()) != "before" {
		t.Errorf("ReadUpTo = %v, kept %q; want the reader's error and what came before", err, c.Bytes())
	}
	if empty := NewCappedBuffer(100); empty.ReadUpTo(strings.NewReader("")) != nil || empty.Bytes() != nil {
		t.Error("an empty reader should give nil bytes and no error")
	}
}
