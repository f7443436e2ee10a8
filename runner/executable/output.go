package executable

import (
	"fmt"
	"io"
	"sync"
)

// OutputBuffer keeps an adapter's output as every target reports it: its
// beginning and its end, with a note of how much was dropped between. The
// binary target keeps its processes' output in one, and the container
// target its containers' and image builds'.
type OutputBuffer interface {
	io.Writer
	String() string
}

// NewOutputBuffer is an empty OutputBuffer, safe for concurrent writes
// (stdout and stderr may write to one buffer).
func NewOutputBuffer() OutputBuffer { return newLogBuffer() }

// Bounds of what the kit keeps of an adapter's output: its beginning (the
// start-up lines, the configuration it printed) and its end (the crash, the
// stack trace). The end matters most: an adapter that dies says why last.
const (
	logHeadSize = 64 << 10
	logTailSize = 960 << 10
)

// logBuffer is an io.Writer that keeps the first headSize and the last
// tailSize bytes written to it, and counts what fell between. Safe for
// concurrent use (stdout and stderr write to one buffer).
type logBuffer struct {
	mu                 sync.Mutex
	headSize, tailSize int
	head, tail         []byte
	total              int64
}

func newLogBuffer() *logBuffer {
	return &logBuffer{headSize: logHeadSize, tailSize: logTailSize}
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(p)
	b.total += int64(n)
	if room := b.headSize - len(b.head); room > 0 {
		k := min(room, len(p))
		b.head = append(b.head, p[:k]...)
		p = p[k:]
	}
	b.tail = append(b.tail, p...)
	if len(b.tail) > 2*b.tailSize {
		// Trimmed at twice the size, so that each byte is copied at most
		// once more on average.
		b.tail = append([]byte(nil), b.tail[len(b.tail)-b.tailSize:]...)
	}
	return n, nil
}

// String is the output kept, with a line where some was dropped saying how
// much.
func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	kept := b.tail[max(0, len(b.tail)-b.tailSize):]
	dropped := b.total - int64(len(b.head)) - int64(len(kept))
	if dropped == 0 {
		return string(b.head) + string(kept)
	}
	return fmt.Sprintf("%s\n[adapter-conformance: %d bytes of output dropped here; the first %d and the last %d are kept]\n%s",
		b.head, dropped, len(b.head), len(kept), kept)
}

// CappedBuffer keeps the first bytes written to it, up to its limit, and
// notes whether more came; writes beyond the limit succeed, so that the
// writer (a program on its stdout, a tee of a response body) is not
// stopped by an error. Safe for concurrent use. The binary target reads a
// --describe run's stdout through one; runner's render log, the App's
// response bodies.
//
// What it keeps is held in pieces, each filled before the next is made,
// rather than in one slice that doubles: a body of unknown length (a
// stream) is then neither copied again at each doubling nor given fresh
// memory twice its size, both of which the race detector makes costly
// (issue 19 item 6). Bytes joins the pieces.
type CappedBuffer struct {
	mu        sync.Mutex
	chunks    [][]byte
	size      int
	limit     int
	truncated bool
}

// Sizes of the pieces a CappedBuffer makes when it was given no size: the
// first small, for the many short outputs, then each as large as all
// before it, up to the largest.
const (
	firstChunk = 4 << 10
	maxChunk   = 1 << 20
)

// NewCappedBuffer is an empty CappedBuffer that keeps limit bytes.
func NewCappedBuffer(limit int) *CappedBuffer { return &CappedBuffer{limit: limit} }

// Grow makes room for n more bytes (at most up to the limit) at once, for a
// writer whose size is known ahead: the bytes then go into one piece.
func (c *CappedBuffer) Grow(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n = min(n, c.limit-c.size); n > c.spare() {
		c.chunks = append(c.chunks, make([]byte, 0, n))
	}
}

// spare is the room left in the last piece.
func (c *CappedBuffer) spare() int {
	if len(c.chunks) == 0 {
		return 0
	}
	last := c.chunks[len(c.chunks)-1]
	return cap(last) - len(last)
}

// grow adds a piece when the last is full: as large as all before it,
// within firstChunk and maxChunk and the room left under the limit.
func (c *CappedBuffer) grow() {
	if c.spare() == 0 {
		c.chunks = append(c.chunks, make([]byte, 0, min(max(c.size, firstChunk), maxChunk, c.limit-c.size)))
	}
}

func (c *CappedBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	written := len(p)
	if room := c.limit - c.size; len(p) > room {
		p = p[:max(room, 0)]
		c.truncated = true
	}
	for len(p) > 0 {
		c.grow()
		last := &c.chunks[len(c.chunks)-1]
		n := min(len(p), cap(*last)-len(*last))
		*last = append(*last, p[:n]...)
		c.size += n
		p = p[n:]
	}
	return written, nil
}

// ReadUpTo reads r into the pieces themselves, with no copy between,
// until r ends or fails or the limit is reached: it stops reading there,
// where Write would take the rest and drop it. (It is not io.ReaderFrom's
// ReadFrom, on purpose: io.Copy, as exec.Cmd uses for its output, would
// then stop reading a process's output at the limit.) The suite's client
// reads a response body of unknown length (a stream) this way. The buffer
// is held while r is read.
func (c *CappedBuffer) ReadUpTo(r io.Reader) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.size < c.limit {
		c.grow()
		last := &c.chunks[len(c.chunks)-1]
		n, err := r.Read((*last)[len(*last):cap(*last)])
		*last = (*last)[:len(*last)+n]
		c.size += n
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Bytes is a copy of what was kept.
func (c *CappedBuffer) Bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.size == 0 {
		return nil
	}
	out := make([]byte, 0, c.size)
	for _, chunk := range c.chunks {
		out = append(out, chunk...)
	}
	return out
}

// Truncated reports whether more came than the limit.
func (c *CappedBuffer) Truncated() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.truncated
}
