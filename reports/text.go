package reports

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/adapterconformance/adapter-conformance/fixtures"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

// printable makes captured text safe for XML 1.0 and HTML: characters XML
// forbids (C0 controls other than tab, newline and carriage return,
// surrogates, U+FFFE and U+FFFF) and bytes that are not UTF-8 become a
// visible \xNN or \u{NNNN}. Captured bodies are often binary; dropping those
// bytes silently would make an exchange look different from what was sent,
// and leaving them in makes the whole JUnit file unparseable.
func printable(s string) string {
	if isPrintable(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case !xmlChar(r):
			if r < 0x100 {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				fmt.Fprintf(&b, `\u{%04x}`, r)
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func isPrintable(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size <= 1) || !xmlChar(r) {
			return false
		}
		i += size
	}
	return true
}

// xmlChar is the Char production of XML 1.0.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		(r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) ||
		(r >= 0x10000 && r <= 0x10FFFF)
}

// firstLine is what fits in a table cell or a CI annotation: the suite's
// "expected: ..." line when there is one (the first line only repeats the
// requirement), else the first non-empty line, cut at a length that keeps
// tables readable.
func firstLine(s string) string {
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "expected: ") {
			return truncate(l, 160)
		}
	}
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return truncate(l, 160)
		}
	}
	return ""
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:@%+=,-]+$`)

// shellQuote lets the rerun command be pasted as is, whatever the target is
// called (a directory with spaces, a URL with a query string).
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// RerunCommand is the command line that reruns one requirement against the
// same target, run the same way, started as the kit was (Command): the
// shortest path from a red report to a
// debugger. It names the fixtures unless they were the default set, and the
// mode when it is container, the one mode auto does not pick for a Go
// package directory that also has a Dockerfile.
func (r *Report) RerunCommand(id string) string {
	kit := r.Command
	if kit == "" {
		kit = "adapter-conformance"
	}
	cmd := kit + " run --target " + shellQuote(r.Target.Name)
	if r.Target.Mode == string(runner.ModeContainer) {
		cmd += " --mode container"
	}
	if !slices.Equal(r.Fixtures, fixtures.DefaultOrder()) {
		for _, f := range r.Fixtures {
			cmd += " --fixture " + shellQuote(f)
		}
	}
	if r.Seed != 0 && r.Seed != suite.DefaultSeed {
		cmd += " --seed " + strconv.FormatUint(r.Seed, 10)
	}
	return cmd + " --focus " + shellQuote(id)
}

// reportText is how every string enters a report: lossless (validText)
// and with the credentials of any URL in it hidden (runner.RedactURLs).
func reportText(s string) string { return runner.RedactURLs(validText(s)) }

// validText keeps the JSON lossless: encoding/json would silently turn each
// byte that is not UTF-8 (common in captured binary bodies) into U+FFFD, so a
// report read back would differ from the one written and the bytes would be
// lost. Writing them as \xNN keeps them visible. Everything else, control
// characters included, JSON carries as is.
func validText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			fmt.Fprintf(&b, `\x%02x`, s[i])
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
