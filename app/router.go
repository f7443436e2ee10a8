package app

import (
	"fmt"
	"hash/maphash"
	"strings"
)

// segmentKind is what one pattern segment matches.
type segmentKind int

const (
	segStatic segmentKind = iota // literal text, case-sensitive
	segParam                     // [name]: exactly one non-empty segment
	segRest                      // [...name]: zero or more segments, last only
)

type segment struct {
	kind segmentKind
	text string // literal text, or the parameter name
}

// parsePattern splits a route pattern such as "/blog/[slug]" into segments.
// Only whole-segment parameters are supported; a mixed segment such as
// "[id].json" is rejected with a reason instead of being half-supported.
func parsePattern(p string) ([]segment, []string, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, nil, fmt.Errorf("pattern must start with /")
	}
	if p != "/" && strings.HasSuffix(p, "/") {
		return nil, nil, fmt.Errorf("pattern must not end with /")
	}
	if strings.ContainsAny(p, "?#%\\ ") {
		return nil, nil, fmt.Errorf("pattern must not contain ?, #, %%, \\ or spaces")
	}
	var segs []segment
	var params []string
	if p == "/" {
		return nil, nil, nil
	}
	parts := strings.Split(p[1:], "/")
	names := map[string]bool{}
	for i, part := range parts {
		switch {
		case part == "":
			return nil, nil, fmt.Errorf("empty segment (//)")
		case part == "." || part == "..":
			return nil, nil, fmt.Errorf("dot segment %q", part)
		case strings.HasPrefix(part, "[...") && strings.HasSuffix(part, "]"):
			name := part[4 : len(part)-1]
			if !validParamName(name) {
				return nil, nil, fmt.Errorf("invalid rest parameter name %q", name)
			}
			if i != len(parts)-1 {
				return nil, nil, fmt.Errorf("rest parameter [...%s] must be the last segment", name)
			}
			if names[name] {
				return nil, nil, fmt.Errorf("parameter %q appears twice", name)
			}
			names[name] = true
			segs = append(segs, segment{segRest, name})
			params = append(params, name)
		case strings.HasPrefix(part, "[") && strings.HasSuffix(part, "]"):
			name := part[1 : len(part)-1]
			if !validParamName(name) {
				return nil, nil, fmt.Errorf("invalid parameter name %q", name)
			}
			if names[name] {
				return nil, nil, fmt.Errorf("parameter %q appears twice", name)
			}
			names[name] = true
			segs = append(segs, segment{segParam, name})
			params = append(params, name)
		case strings.ContainsAny(part, "[]"):
			return nil, nil, fmt.Errorf("segment %q mixes text and a parameter; only whole-segment parameters are supported", part)
		default:
			segs = append(segs, segment{segStatic, part})
		}
	}
	return segs, params, nil
}

func validParamName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// shapeKey identifies patterns that would match exactly the same paths
// ("/blog/[a]" and "/blog/[b]").
func shapeKey(segs []segment) string {
	var b strings.Builder
	for _, s := range segs {
		switch s.kind {
		case segStatic:
			b.WriteString("/s:" + s.text)
		case segParam:
			b.WriteString("/[]")
		case segRest:
			b.WriteString("/[...]")
		}
	}
	return b.String()
}

// node is one level of the route trie. Lookup walks one node per path
// segment, so its cost depends on the depth of the path, not on how many
// routes the app has (issue 2: Match must not scan all routes).
type node struct {
	static children
	param  *node
	route  *Route // a route that ends at this node
	rest   *Route // a [...rest] route whose rest starts below this node
}

// children holds a node's static children in an open-addressed table. The
// hashes sit in their own array, so a lookup hashes the segment once, probes
// a cache line or two of hashes, and reads a slot (key and child) only on a hit:
// a lookup touches about as much memory at the root of a 10,000-route app as
// in a node with three children, which keeps Match flat as apps grow.
type children struct {
	hashes []uint64 // 0 marks an empty slot; len is a power of two
	slots  []childSlot
	n      int
}

type childSlot struct {
	key  string
	node *node
}

var childSeed = maphash.MakeSeed()

func childHash(s string) uint64 {
	if h := maphash.String(childSeed, s); h != 0 {
		return h
	}
	return 1
}

// get returns the child for segment seg, or nil.
func (c *children) get(seg string) *node {
	if c.n == 0 {
		return nil
	}
	h := childHash(seg)
	mask := uint64(len(c.hashes) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch c.hashes[i] {
		case 0:
			return nil
		case h:
			if s := &c.slots[i]; s.key == seg {
				return s.node
			}
		}
	}
}

// getOrAdd returns the child for seg, adding an empty one if there is none.
// It is only called while an App is built.
func (c *children) getOrAdd(seg string) *node {
	if n := c.get(seg); n != nil {
		return n
	}
	if 2*(c.n+1) > len(c.hashes) {
		c.grow()
	}
	n := &node{}
	c.put(childHash(seg), seg, n)
	return n
}

func (c *children) put(h uint64, seg string, n *node) {
	mask := uint64(len(c.hashes) - 1)
	i := h & mask
	for c.hashes[i] != 0 {
		i = (i + 1) & mask
	}
	c.hashes[i], c.slots[i] = h, childSlot{seg, n}
	c.n++
}

func (c *children) grow() {
	size := 8
	for size < 4*(c.n+1) {
		size *= 2
	}
	old := *c
	*c = children{hashes: make([]uint64, size), slots: make([]childSlot, size)}
	for i, h := range old.hashes {
		if h != 0 {
			c.put(h, old.slots[i].key, old.slots[i].node)
		}
	}
}

func (n *node) insert(r *Route) {
	cur := n
	for _, s := range r.segments {
		switch s.kind {
		case segStatic:
			cur = cur.static.getOrAdd(s.text)
		case segParam:
			if cur.param == nil {
				cur.param = &node{}
			}
			cur = cur.param
		case segRest:
			cur.rest = r
			return
		}
	}
	cur.route = r
}

// lookup finds the route for a path. p is what is left of the path: "" at
// the end, otherwise "/" followed by the remaining segments. The walk slices
// p in place, so a lookup allocates nothing unless capture is set, in which
// case the parameter values are appended to captured in pattern order.
//
// Priority follows Astro's route sorting (astro-behavior.md 1): at each
// segment a static match is tried first, then a [param], then a [...rest]; a
// dead end backtracks, which is how "/about/intro" reaches "/[lang]/intro"
// although "/about" exists.
func (n *node) lookup(p string, capture bool, captured []string) (*Route, []string) {
	if p == "" {
		if n.route != nil {
			return n.route, captured
		}
		if n.rest != nil {
			// A rest parameter may be empty: "/docs" matches "/docs/[...path]".
			if capture {
				captured = append(captured, "")
			}
			return n.rest, captured
		}
		return nil, nil
	}
	seg, tail := p[1:], ""
	if i := strings.IndexByte(seg, '/'); i >= 0 {
		seg, tail = seg[:i], seg[i:]
	}
	if child := n.static.get(seg); child != nil {
		if r, c := child.lookup(tail, capture, captured); r != nil {
			return r, c
		}
	}
	if n.param != nil && seg != "" {
		c := captured
		if capture {
			c = append(c, seg)
		}
		if r, c := n.param.lookup(tail, capture, c); r != nil {
			return r, c
		}
	}
	if n.rest != nil {
		if capture {
			captured = append(captured, p[1:])
		}
		return n.rest, captured
	}
	return nil, nil
}
