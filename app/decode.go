package app

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// errMalformedURI is JavaScript's URIError from decodeURI.
var errMalformedURI = errors.New("malformed percent-encoding")

// errMultiLevelEncoding is Astro's MultiLevelEncodingError: the path is still
// changing after maxDecodeRounds rounds of decoding (astro-behavior.md 1).
var errMultiLevelEncoding = errors.New("path is percent-encoded more than 10 times")

const maxDecodeRounds = 10

// decodeURIReserved are the characters JavaScript's decodeURI leaves encoded:
// that is why "%2F" survives decoding and a [slug] may hold "a%2Fb".
const decodeURIReserved = ";/?:@&=+$,#"

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// decodeURI is JavaScript's decodeURI: %XX sequences that form valid UTF-8
// are decoded, except those that decode to a reserved character, which are
// kept as written. Any malformed sequence makes the whole call fail.
func decodeURI(s string) (string, error) {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for i < len(s) {
		c := s[i]
		if c != '%' {
			b.WriteByte(c)
			i++
			continue
		}
		first, ok := pctByte(s, i)
		if !ok {
			return "", errMalformedURI
		}
		if first < 0x80 {
			if strings.IndexByte(decodeURIReserved, first) >= 0 {
				b.WriteString(s[i : i+3])
			} else {
				b.WriteByte(first)
			}
			i += 3
			continue
		}
		n := utf8SeqLen(first)
		if n == 0 {
			return "", errMalformedURI
		}
		var buf [4]byte
		buf[0] = first
		j := i + 3
		for k := 1; k < n; k++ {
			cb, ok := pctByte(s, j)
			if !ok || cb&0xC0 != 0x80 {
				return "", errMalformedURI
			}
			buf[k] = cb
			j += 3
		}
		if !utf8.Valid(buf[:n]) {
			return "", errMalformedURI
		}
		b.Write(buf[:n])
		i = j
	}
	return b.String(), nil
}

// pctByte reads the %XX at s[i:].
func pctByte(s string, i int) (byte, bool) {
	if i+2 >= len(s) || s[i] != '%' {
		return 0, false
	}
	hi, ok1 := unhex(s[i+1])
	lo, ok2 := unhex(s[i+2])
	if !ok1 || !ok2 {
		return 0, false
	}
	return hi<<4 | lo, true
}

func utf8SeqLen(b byte) int {
	switch {
	case b&0xE0 == 0xC0:
		return 2
	case b&0xF0 == 0xE0:
		return 3
	case b&0xF8 == 0xF0:
		return 4
	}
	return 0
}

// decodePathname decodes a pathname the way Astro does: decodeURI again and
// again until the value stops changing. Decoding stops quietly at the first
// malformed result ("/blog/%25%25%2561" gives "%%%61"). A value that still
// changes after 10 rounds is an error, which Render turns into a 400.
func decodePathname(p string) (string, error) {
	for range maxDecodeRounds {
		next, err := decodeURI(p)
		if err != nil || next == p {
			return p, nil
		}
		p = next
	}
	if next, err := decodeURI(p); err == nil && next != p {
		return p, errMultiLevelEncoding
	}
	return p, nil
}

// plainPath reports whether an encoded path holds no '%', '.', '\' and
// no "//". Most request paths are plain, and removing dot segments,
// decoding, reading "\" as "/" and collapsing slashes all leave a plain
// path as it is, so Match and Render check for all four once instead of
// having each step scan the path again.
func plainPath(p string) bool {
	return strings.IndexByte(p, '%') < 0 && strings.IndexByte(p, '.') < 0 &&
		strings.IndexByte(p, '\\') < 0 && !strings.Contains(p, "//")
}

// removeDotSegments applies the WHATWG URL parser's dot-segment rules to an
// encoded path: "." and ".." (also written "%2e", any case) are resolved, so
// "/blog/../about" and "/blog/%2e%2e/about" both become "/about".
func removeDotSegments(p string) string {
	if !strings.Contains(p, ".") && !strings.Contains(p, "%2") {
		return p
	}
	parts := strings.Split(p, "/")
	// parts[0] is "" because p starts with "/".
	out := make([]string, 0, len(parts))
	out = append(out, "")
	for i := 1; i < len(parts); i++ {
		seg := parts[i]
		last := i == len(parts)-1
		switch {
		case isSingleDot(seg):
			if last {
				out = append(out, "")
			}
		case isDoubleDot(seg):
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, seg)
		}
	}
	if len(out) == 1 {
		return "/"
	}
	return strings.Join(out, "/")
}

func isSingleDot(s string) bool { return s == "." || strings.EqualFold(s, "%2e") }

func isDoubleDot(s string) bool {
	switch strings.ToLower(s) {
	case "..", ".%2e", "%2e.", "%2e%2e":
		return true
	}
	return false
}

// collapseSlashes turns every run of slashes into one.
func collapseSlashes(p string) string {
	if !strings.Contains(p, "//") {
		return p
	}
	var b strings.Builder
	b.Grow(len(p))
	prevSlash := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '/' && prevSlash {
			continue
		}
		prevSlash = c == '/'
		b.WriteByte(c)
	}
	return b.String()
}

// urlPathname is Astro.url.pathname for a decoded pathname. Astro 7's
// normalizeUrl (astro/dist/core/util/normalized-url.js) assigns the decoded
// pathname back to a WHATWG URL, whose pathname setter reads "\" as "/",
// removes dot segments and percent-encodes what a path cannot hold (the
// path percent-encode set: controls, space, '"', '#', '<', '>', '?', '`',
// '{', '}' and every non-ASCII byte), and then collapses duplicate slashes.
// So the pathname is not decoded: "/blog/hello%20world" stays as it is, and
// "/blog/caf%c3%a9" becomes "/blog/caf%C3%A9"; a '%' that decoding produced
// ("/blog/100%25" gives "/blog/100%") is not encoded again, and what decodeURI
// leaves encoded ("%2F") stays encoded. The params are decoded.
func urlPathname(decoded string) string {
	p := strings.ReplaceAll(decoded, `\`, "/")
	return encodePathname(removeDotSegments(p))
}

// encodePathname is the end of urlPathname: the path percent-encoded and its
// slashes collapsed. For a plain path (plainPath) it is all of urlPathname.
func encodePathname(p string) string {
	first := 0
	for first < len(p) && !pathEncodes(p[first]) {
		first++
	}
	if first == len(p) {
		// Nothing to encode, the common case: no copy.
		return collapseSlashes(p)
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(p) + 16)
	b.WriteString(p[:first])
	for i := first; i < len(p); i++ {
		c := p[i]
		if pathEncodes(c) {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return collapseSlashes(b.String())
}

// pathEncodes reports whether the WHATWG URL pathname setter percent-encodes
// byte c (the path percent-encode set and every non-ASCII byte).
func pathEncodes(c byte) bool { return pathEncodeSet[c] }

var pathEncodeSet = func() (set [256]bool) {
	for c := range set {
		set[c] = c <= 0x20 || c >= 0x7F || strings.IndexByte("\"#<>?`{}", byte(c)) >= 0
	}
	return set
}()
