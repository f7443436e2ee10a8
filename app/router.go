package app

import (
	"fmt"
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
	static map[string]*node
	param  *node
	route  *Route // a route that ends at this node
	rest   *Route // a [...rest] route whose rest starts below this node
}

func (n *node) insert(r *Route) {
	cur := n
	for _, s := range r.segments {
		switch s.kind {
		case segStatic:
			if cur.static == nil {
				cur.static = map[string]*node{}
			}
			next := cur.static[s.text]
			if next == nil {
				next = &node{}
				cur.static[s.text] = next
			}
			cur = next
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

// lookup finds the route for path segments. Priority follows Astro's route
// sorting (astro-behavior.md 1): at each segment a static match is tried
// first, then a [param], then a [...rest]; a dead end backtracks, which is how
// "/about/intro" reaches "/[lang]/intro" although "/about" exists.
func (n *node) lookup(segs []string, i int, captured []string) (*Route, []string) {
	if i == len(segs) {
		if n.route != nil {
			return n.route, captured
		}
		if n.rest != nil {
			// A rest parameter may be empty: "/docs" matches "/docs/[...path]".
			return n.rest, append(captured, "")
		}
		return nil, nil
	}
	if child := n.static[segs[i]]; child != nil {
		if r, c := child.lookup(segs, i+1, captured); r != nil {
			return r, c
		}
	}
	if n.param != nil && segs[i] != "" {
		if r, c := n.param.lookup(segs, i+1, append(captured, segs[i])); r != nil {
			return r, c
		}
	}
	if n.rest != nil {
		return n.rest, append(captured, strings.Join(segs[i:], "/"))
	}
	return nil, nil
}
