package requests

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/lbm-project/lbm/internal/safetext"
)

// CheckText refuses an empty, oversized (more than max bytes once trimmed)
// or unprintable free text given in field: the notes and reasons the
// steps of relevant errors and subject access requests record, which
// line breaks and tabs may lay out but no hidden character may disguise.
func CheckText(field, s string, max int) error {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return FieldErrors{{Field: field, Msg: "is required"}}
	case len(s) > max:
		return FieldErrors{{Field: field, Msg: fmt.Sprintf("at most %d bytes", max)}}
	case !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r != '\n' && r != '\r' && r != '\t' && safetext.Hidden(r) }):
		return FieldErrors{{Field: field, Msg: "holds characters that cannot be shown"}}
	}
	return nil
}
