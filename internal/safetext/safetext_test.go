package safetext

import "testing"

func TestHidden(t *testing.T) {
	for _, c := range []struct {
		r    rune
		want bool
	}{
		{'a', false}, {' ', false}, {'é', false}, {'\u200d', false}, {'\u200c', false},
		{'\x00', true}, {'\t', true}, {'\n', true}, {'\x1b', true}, {'\x7f', true},
		{'\u202e', true}, {'\u2028', true}, {'\u2029', true}, {'\u0085', true}, {'\ufeff', true},
	} {
		if got := Hidden(c.r); got != c.want {
			t.Errorf("Hidden(%U) = %v, want %v", c.r, got, c.want)
		}
	}
}

func TestEscape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain text é", "plain text é"},
		{"a\x00b", `a\x00b`},
		{"tag !\x1b[31m", `tag !\x1b[31m`},
		{"left\u202eright", `left\u202eright`},
		{"bad \xff byte", `bad \xff byte`},
		{"", ""},
	} {
		if got := Escape(c.in); got != c.want {
			t.Errorf("Escape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestQuote(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"band_c", "band_c"}, {"P-1.2", "P-1.2"},
		{"with space", `"with space"`}, {"", ""}, {"a\nb", `"a\nb"`}, {"é", `"é"`},
	} {
		if got := Quote(c.in); got != c.want {
			t.Errorf("Quote(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
