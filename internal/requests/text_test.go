package requests

import (
	"strings"
	"testing"
)

func TestCheckText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // the message, "" for accepted
	}{
		{"A note.", ""},
		{"  two lines\n\tand a tab\r\n", ""},
		{strings.Repeat("x", 20), ""},
		{"", "is required"},
		{" \n\t ", "is required"},
		{strings.Repeat("x", 21), "at most 20 bytes"},
		{"bidi \u202e hidden", "holds characters that cannot be shown"},
		{"bell \a", "holds characters that cannot be shown"},
		{"bad \xff utf-8", "holds characters that cannot be shown"},
	} {
		err := CheckText("note", tc.in, 20)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("CheckText(%q) = %v, want accepted", tc.in, err)
		case tc.want != "":
			fe, ok := err.(FieldErrors)
			if !ok || len(fe) != 1 || fe[0].Field != "note" || fe[0].Msg != tc.want {
				t.Errorf("CheckText(%q) = %v, want note: %s", tc.in, err, tc.want)
			}
		}
	}
}
