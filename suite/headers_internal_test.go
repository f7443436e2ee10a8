package suite

import (
	"slices"
	"testing"
)

func TestSameFieldValue(t *testing.T) {
	date := "Wed, 21 Oct 2037 07:28:00 GMT"
	for _, c := range []struct {
		name      string
		got, want []string
		same      bool
		why       string
	}{
		// RFC 9110 §5.3 and §5.6.1: a field the App sends on several lines is a list.
		{"X-Multi", []string{"one", "two"}, []string{"one", "two"}, true, "the same lines"},
		{"X-Multi", []string{"one, two"}, []string{"one", "two"}, true, "joined with a comma and a space"},
		{"X-Multi", []string{"one,two"}, []string{"one", "two"}, true, "joined with a bare comma (published Lambda bridges)"},
		{"x-multi", []string{"one ,\ttwo"}, []string{"one", "two"}, true, "optional whitespace on both sides, any name case"},
		{"X-Multi", []string{"one,", ",two"}, []string{"one", "two"}, true, "empty list members are ignored"},
		{"X-Multi", []string{"two", "one"}, []string{"one", "two"}, false, "order matters in a list"},
		{"X-Multi", []string{"two"}, []string{"one", "two"}, false, "the last value only (B10)"},
		{"X-Multi", []string{"one", "one", "two"}, []string{"one", "two"}, false, "a member added"},
		{"X-Multi", nil, []string{"one", "two"}, false, "missing"},
		// Known list-valued fields compare as lists even when sent on one line.
		{"Vary", []string{"Accept,Accept-Encoding"}, []string{"Accept, Accept-Encoding"}, true, "Vary is a list (RFC 9110 §12.5.5)"},
		{"Vary", []string{"Accept", "Accept-Encoding"}, []string{"Accept, Accept-Encoding"}, true, "Vary split onto two lines"},
		{"Cache-Control", []string{`no-cache="a, b",max-age=0`}, []string{`no-cache="a, b", max-age=0`}, true, "a comma inside a quoted-string is not a separator"},
		{"Cache-Control", []string{`no-cache="a,b", max-age=0`}, []string{`no-cache="a, b", max-age=0`}, false, "a quoted-string is compared exactly"},
		{"Via", []string{"1.1 a (x, y),1.1 b"}, []string{"1.1 a (x, y), 1.1 b"}, true, "a comma inside a comment is not a separator"},
		{"Via", []string{"1.1 a (x,y), 1.1 b"}, []string{"1.1 a (x, y), 1.1 b"}, false, "a comment is compared exactly"},
		{"Link", []string{"<https://a.example/x,y>; rel=next"}, []string{"<https://a.example/x, y>; rel=next"}, false, "a comma inside <URI> is not a separator"},
		// Set-Cookie is never a list (RFC 6265 §3): a multiset of lines.
		{"Set-Cookie", []string{"a=1", "b=2"}, []string{"b=2", "a=1"}, true, "any order"},
		{"Set-Cookie", []string{"a=1, b=2"}, []string{"a=1", "b=2"}, false, "folded (B01)"},
		{"Set-Cookie", []string{"a=1", "a=1"}, []string{"a=1"}, false, "one cookie sent twice"},
		{"Set-Cookie", []string{"e=5; Expires=" + date}, []string{"e=5; Expires=" + date}, true, "an Expires with a comma"},
		// A single line of a field that is not a list: exact bytes.
		{"X-Date", []string{date}, []string{date}, true, "the same line"},
		{"X-Date", []string{"Wed", " 21 Oct 2037 07:28:00 GMT"}, []string{date}, false, "split at its comma"},
		{"X-Date", []string{"Wed", "21 Oct 2037 07:28:00 GMT"}, []string{date}, false, "split at its comma and trimmed"},
		{"If-Modified-Since", []string{"Wed,21 Oct 2037 07:28:00 GMT"}, []string{date}, false, "an HTTP-date is not a list"},
		{"Content-Type", []string{"text/html;charset=utf-8"}, []string{"text/html; charset=utf-8"}, false, "not a list: exact bytes"},
		{"Location", []string{"/about", "/about"}, []string{"/about"}, false, "a single field sent twice"},
		{"Location", nil, nil, true, "absent on both sides"},
	} {
		if got := sameFieldValue(c.name, c.got, c.want); got != c.same {
			t.Errorf("%s: sameFieldValue(%q, %s, %s) = %v, want %v (%s)", c.why, c.name, fieldLines(c.got), fieldLines(c.want), got, c.same, howCompared(c.name, c.want))
		}
	}
}

func TestListMembers(t *testing.T) {
	for _, c := range []struct {
		lines []string
		want  []string
	}{
		{[]string{"a, b", "c"}, []string{"a", "b", "c"}},
		{[]string{` W/"x,y" , "z\",w"`}, []string{`W/"x,y"`, `"z\",w"`}},
		{[]string{"1.1 p (c (n, m), d), 1.0 q"}, []string{"1.1 p (c (n, m), d)", "1.0 q"}},
		{[]string{"<a,b>; rel=x, <c>"}, []string{"<a,b>; rel=x", "<c>"}},
		{[]string{" , ,"}, nil},
	} {
		if got := listMembers(c.lines); !slices.Equal(got, c.want) {
			t.Errorf("listMembers(%q) = %q, want %q", c.lines, got, c.want)
		}
	}
}
