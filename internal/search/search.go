package search

import (
	"encoding/json"
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/lbm-project/lbm/internal/event"
)

// Limits of the tokeniser. They are part of the index's format: changing
// one changes which terms stored events have, and re-indexing means
// decrypting every event whose key still exists.
const (
	MinTermRunes = 2    // shortest term kept, in runes
	MaxTermRunes = 64   // longest term kept, in runes; longer tokens are dropped
	MaxTerms     = 1024 // most terms of one event, or of one query
)

// Terms returns the search terms of the content fields among fs (metadata
// is stored in the clear and needs no blind index),
// sorted and unique, at most MaxTerms of them; nil when there are none. It
// never fails: a malformed value gives at most the terms of its text.
func Terms(fs []event.Field) []string {
	var c collector
	for _, f := range fs {
		if f.IsContent() && !c.value(f.Value) {
			break
		}
	}
	return c.sorted()
}

// Query returns the terms of a query's text by the rules of Terms, so each
// names the stored term it should match: sorted, unique, at most MaxTerms;
// nil when there are none.
func Query(text string) []string {
	var c collector
	c.text(text)
	return c.sorted()
}

// collector gathers tokens end to end in one buffer, so that a token
// costs no allocation of its own and an event's terms share one string.
// Until there are MaxTerms tokens it keeps repeats and leaves them to the
// final sort; only an event that long needs a set to know which MaxTerms
// distinct tokens came first.
type collector struct {
	buf  []byte          // tokens, lower-cased, end to end
	ends []int           // token i is buf[ends[i-1]:ends[i]]
	seen map[string]bool // the tokens, once there were MaxTerms of them
}

// value adds the terms of one canonical JSON value. It returns false once
// MaxTerms terms are held.
func (c *collector) value(v []byte) bool {
	switch {
	case len(v) == 0:
		return true
	case v[0] == '"':
		s, ok := event.StringValue(v)
		return !ok || c.text(s)
	case v[0] == '-' || v[0] >= '0' && v[0] <= '9':
		return c.text(string(v))
	case v[0] == '[':
		var elems []json.RawMessage
		if json.Unmarshal(v, &elems) != nil {
			return true
		}
		for _, e := range elems {
			// Canonical arrays hold only scalars; a nested one is not
			// canonical, and skipping it bounds the recursion.
			if len(e) > 0 && e[0] != '[' && !c.value(e) {
				return false
			}
		}
	}
	return true
}

// text adds the terms of s. It returns false once MaxTerms terms are held.
func (c *collector) text(s string) bool {
	n := 0 // runes in the token so far, counted on past MaxTermRunes
	for i := 0; i < len(s); {
		// ASCII, most of most content, skips the Unicode tables: its
		// letters are A-Z and a-z, its digits 0-9, and it has no marks.
		r, size := rune(s[i]), 1
		tok := false
		switch {
		case 'a' <= r && r <= 'z' || '0' <= r && r <= '9':
			tok = true
		case 'A' <= r && r <= 'Z':
			r, tok = r+'a'-'A', true
		case r >= utf8.RuneSelf:
			r, size = utf8.DecodeRuneInString(s[i:])
			if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) {
				r, tok = unicode.ToLower(r), true
			}
		}
		i += size
		if tok {
			// An over-long token is dropped whole, so stop copying it:
			// a 512 KiB run must not grow the buffer.
			if n < MaxTermRunes {
				c.buf = utf8.AppendRune(c.buf, r)
			}
			n++
			continue
		}
		if !c.end(n) {
			return false
		}
		n = 0
	}
	return c.end(n)
}

// end ends the token of n runes at the end of c.buf, keeping it if its
// length is allowed. It returns false once MaxTerms terms are held.
func (c *collector) end(n int) bool {
	start := 0
	if len(c.ends) > 0 {
		start = c.ends[len(c.ends)-1]
	}
	if n < MinTermRunes || n > MaxTermRunes {
		c.buf = c.buf[:start]
		return true
	}
	if c.seen == nil {
		c.ends = append(c.ends, len(c.buf))
		if len(c.ends) < MaxTerms {
			return true
		}
		c.dedupe()
		return len(c.ends) < MaxTerms
	}
	if c.seen[string(c.buf[start:])] {
		c.buf = c.buf[:start]
		return true
	}
	c.seen[string(c.buf[start:])] = true
	c.ends = append(c.ends, len(c.buf))
	return len(c.ends) < MaxTerms
}

// dedupe drops repeated tokens, keeping first ones in order, and from then
// on makes end keep only new tokens.
func (c *collector) dedupe() {
	c.seen = make(map[string]bool, MaxTerms)
	buf, ends := c.buf, c.ends
	c.buf, c.ends = make([]byte, 0, len(buf)), make([]int, 0, MaxTerms)
	start := 0
	for _, end := range ends {
		if tok := buf[start:end]; !c.seen[string(tok)] {
			c.seen[string(tok)] = true
			c.buf = append(c.buf, tok...)
			c.ends = append(c.ends, len(c.buf))
		}
		start = end
	}
}

func (c *collector) sorted() []string {
	if len(c.ends) == 0 {
		return nil
	}
	all := string(c.buf)
	terms := make([]string, len(c.ends))
	start := 0
	for i, end := range c.ends {
		terms[i] = all[start:end]
		start = end
	}
	slices.Sort(terms)
	return slices.Compact(terms)
}
