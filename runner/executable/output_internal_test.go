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
