package suite

import (
	"net/textproto"
	"slices"
	"strconv"
	"strings"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/adapterconformance/adapter-conformance/app"
)

// sameFieldValue reports whether got and want, the field lines of one field
// name (as http.Header.Values returns them, in order), carry the same field
// value as HTTP defines it. It is the one comparison the suite uses wherever
// a header the client received (or the App saw) is compared with an
// expected one:
//
//   - Set-Cookie is never a list (RFC 6265 §3: folding Set-Cookie lines
//     changes their meaning, RFC 9110 §5.3 excepts it), so every line must
//     arrive as it was sent, once: the lines compare as a multiset.
//   - A list-valued field compares as its list of members, in order. RFC
//     9110 §5.3 lets a recipient combine several field lines of the same
//     name into one line joined with commas, and RFC 9110 §5.6.1 allows
//     optional whitespace around those commas and empty members, so
//     `one`+`two` on two lines, `one, two` and `one,two` are the same value.
//     A field is list-valued when its definition says so (listFields), or
//     when want has several lines: RFC 9110 §5.3 forbids a sender to
//     generate several lines of a field that is not a list (Set-Cookie
//     excepted), so a field the App sends on several lines is one by
//     definition. Commas inside a quoted-string (§5.6.4), a comment
//     (§5.6.5) or a <URI-reference> (RFC 8288 §3) do not separate members.
//   - Any other field (one line, not a known list) must arrive as that one
//     line, byte for byte: a Date-like value is not split at its comma.
func sameFieldValue(name string, got, want []string) bool {
	switch ck := textproto.CanonicalMIMEHeaderKey(name); {
	case len(got) == 0 || len(want) == 0:
		return len(got) == len(want)
	case ck == "Set-Cookie":
		a, b := slices.Clone(got), slices.Clone(want)
		slices.Sort(a)
		slices.Sort(b)
		return slices.Equal(a, b)
	case isListField(ck, want):
		return slices.Equal(listMembers(got), listMembers(want))
	default:
		return slices.Equal(got, want)
	}
}

// isListField reports whether a field (canonical name) with the lines the
// App sent compares as a list.
func isListField(canonicalName string, sent []string) bool {
	return len(sent) > 1 || listFields[canonicalName]
}

// listFields are the list-valued fields whose definitions use the #rule
// (RFC 9110 §5.6.1): those of RFC 9110 and RFC 9111, Link (RFC 8288 §3)
// and Forwarded (RFC 7239 §4). Keys are canonical (textproto).
var listFields = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range []string{
		// RFC 9110
		"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Accept-Ranges", "Allow",
		"Authentication-Info", "Connection", "Content-Encoding", "Content-Language", "Expect",
		"If-Match", "If-None-Match", "Proxy-Authenticate", "Proxy-Authentication-Info", "TE",
		"Trailer", "Transfer-Encoding", "Upgrade", "Vary", "Via", "WWW-Authenticate",
		// RFC 9111
		"Cache-Control", "Pragma",
		// RFC 8288, RFC 7239
		"Link", "Forwarded",
	} {
		m[textproto.CanonicalMIMEHeaderKey(n)] = true
	}
	return m
}()

// listMembers splits field lines into their list members (RFC 9110
// §5.6.1): at commas outside quoted-strings, comments and <URI-references>,
// each member trimmed of optional whitespace (SP and HTAB, §5.6.3), empty
// members dropped.
func listMembers(lines []string) []string {
	var out []string
	add := func(s string) {
		if s = strings.Trim(s, " \t"); s != "" {
			out = append(out, s)
		}
	}
	for _, line := range lines {
		start, quoted, escaped, comment, angle := 0, false, false, 0, false
		for i := 0; i < len(line); i++ {
			c := line[i]
			switch {
			case escaped:
				escaped = false
			case (quoted || comment > 0) && c == '\\':
				escaped = true
			case quoted:
				quoted = c != '"'
			case angle:
				angle = c != '>'
			case comment > 0:
				switch c {
				case '(':
					comment++
				case ')':
					comment--
				}
			case c == '"':
				quoted = true
			case c == '<':
				angle = true
			case c == '(':
				comment++
			case c == ',':
				add(line[start:i])
				start = i + 1
			}
		}
		add(line[start:])
	}
	return out
}

// fieldLines shows a field's lines for a message: `"one" | "two"`, or
// `(none)`.
func fieldLines(lines []string) string {
	if len(lines) == 0 {
		return "(none)"
	}
	q := make([]string, len(lines))
	for i, l := range lines {
		q[i] = strconv.Quote(l)
	}
	return strings.Join(q, " | ")
}

// howCompared says in a message how sameFieldValue compares a field.
func howCompared(name string, want []string) string {
	switch ck := textproto.CanonicalMIMEHeaderKey(name); {
	case ck == "Set-Cookie":
		return "each line once, as a multiset (RFC 6265 §3)"
	case len(want) > 0 && isListField(ck, want):
		return "as a list: lines may be joined with commas, with or without spaces (RFC 9110 §5.3, §5.6.1)"
	default:
		return "exactly, as one line"
	}
}

// expectField checks one response header of an exchange against the lines
// expected, with sameFieldValue.
func expectField(ex *exchange, name string, want []string) {
	ginkgo.GinkgoHelper()
	mustRespond(ex)
	got := ex.resp.Header.Values(name)
	Expect(sameFieldValue(name, got, want)).To(BeTrue(), explain(fieldExpectation(name, got, want), ex))
}

// fieldExpectation says what was expected of a field, how it is compared,
// and what came instead.
func fieldExpectation(name string, got, want []string) string {
	if len(want) == 0 {
		return "no " + name + " field; got " + fieldLines(got)
	}
	return name + ": " + fieldLines(want) + ", compared " + howCompared(name, want) + "; got " + fieldLines(got)
}

// httpDate is a Date-like value: one field value with a comma in it that is
// not a list separator (RFC 9110 §5.6.7).
const httpDate = "Wed, 21 Oct 2037 07:28:00 GMT"

// expectEchoedField checks a request header as the App saw it (the echo
// endpoint reports each header's lines, under its lower-case name) against
// the lines the client sent, with sameFieldValue.
func expectEchoedField(ex *exchange, e app.Echo, name string, sent []string) {
	ginkgo.GinkgoHelper()
	got := e.Headers[strings.ToLower(name)]
	Expect(sameFieldValue(name, got, sent)).To(BeTrue(), explain("the App to see "+fieldExpectation(name, got, sent), ex))
}
