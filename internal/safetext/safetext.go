// Package safetext decides which text is fit to show people, and makes
// the rest visible. lbm puts names, ids and catalogue text from files and
// identity providers on pages and into error messages that end up in
// terminals; a character that hides itself or changes how the text around
// it is shown (a bidi override, a terminal escape, a line separator) could
// make one name look like another or rewrite what a terminal displays.
//
// Parsers refuse such characters in fields with [Hidden]; error messages
// that quote input pass it through [Escape] or [Quote].
package safetext

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Hidden reports whether r changes how text around it is shown, or hides,
// rather than showing itself: control and formatting characters (but the
// zero-width joiner and non-joiner, which some scripts need inside words),
// and line and paragraph separators.
func Hidden(r rune) bool {
	if r < utf8.RuneSelf {
		return r < 0x20 || r == 0x7f
	}
	if r == 0x200c || r == 0x200d {
		return false
	}
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp)
}

// Escape returns s with its invalid UTF-8 and Hidden characters written as
// Go escapes, e.g. \x00 or \u202e; other text is unchanged.
func Escape(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, Hidden) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case Hidden(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// Quote returns s as it is if it is plain (ASCII letters, digits, '_', '-'
// and '.'), else Go-quoted, so that a message shows exactly what s holds
// and s cannot be mistaken for the message around it.
func Quote(s string) string {
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return strconv.Quote(s)
		}
	}
	return s
}
