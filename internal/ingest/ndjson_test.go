package ingest

import (
	"errors"
	"strings"
	"testing"

	"github.com/lbm-project/lbm/internal/event"
)

func TestDecodeNDJSON(t *testing.T) {
	good := line(1, "a")
	for _, c := range []struct {
		name      string
		body      string
		wantN     int
		wantLine  int
		wantField string
	}{
		{"one", good, 1, 0, ""},
		{"trailing newline", good + "\n", 1, 0, ""},
		{"crlf", good + "\r\n" + good + "\r\n", 2, 0, ""},
		{"blank lines skipped", "\n" + good + "\n\n  \n" + good, 2, 0, ""},
		{"empty body", "", 0, 0, ""},
		{"bad line in the middle", good + "\n" + good + "\n{\"@timestamp\":\"yesterday\"}\n" + good, 0, 3, "@timestamp"},
		{"line number counts blank lines", "\n\n{}", 0, 3, "@timestamp"},
		{"not json", good + "\nnot json", 0, 2, ""},
		{"source.id spoofed", strings.Replace(good, `"user"`, `"source":{"id":"other"},"user"`, 1), 0, 1, "source.id"},
	} {
		t.Run(c.name, func(t *testing.T) {
			evs, err := DecodeNDJSON(strings.NewReader(c.body), "pnc")
			if c.wantLine == 0 {
				if err != nil || len(evs) != c.wantN {
					t.Fatalf("DecodeNDJSON = %d events, %v; want %d, nil", len(evs), err, c.wantN)
				}
				return
			}
			var pe *event.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("DecodeNDJSON = %v, want *event.ParseError", err)
			}
			if pe.Line != c.wantLine || pe.Field != c.wantField {
				t.Errorf("DecodeNDJSON error at line %d field %q (%v), want line %d field %q", pe.Line, pe.Field, err, c.wantLine, c.wantField)
			}
			if evs != nil {
				t.Errorf("DecodeNDJSON returned %d events with an error, want none", len(evs))
			}
		})
	}
}

func TestDecodeNDJSONLineTooLong(t *testing.T) {
	body := line(1, "") + "\n" + `{"x":"` + strings.Repeat("a", event.MaxLineBytes) + `"}`
	_, err := DecodeNDJSON(strings.NewReader(body), "pnc")
	var pe *event.ParseError
	if !errors.As(err, &pe) || pe.Line != 2 {
		t.Fatalf("DecodeNDJSON(over-long line 2) = %v, want ParseError at line 2", err)
	}
}

// FuzzDecodeNDJSON: the decoder never panics, and either fails with a
// located ParseError or returns one event per non-blank line.
func FuzzDecodeNDJSON(f *testing.F) {
	f.Add(line(1, "a") + "\n" + line(2, ""))
	f.Add("\n\n" + line(3, "x") + "\r\n")
	f.Add(`{"@timestamp":"2026-11-02T08:00:00Z","event":{"category":["web"],"action":"browse"},"user.id":"u1","related":{"user":["u2","u3"]}}`)
	f.Add("{}\n[]\nnull")
	f.Fuzz(func(t *testing.T, body string) {
		evs, err := DecodeNDJSON(strings.NewReader(body), "pnc")
		if err != nil {
			var pe *event.ParseError
			if errors.As(err, &pe) && pe.Line < 1 {
				t.Fatalf("ParseError without a line: %v", err)
			}
			return
		}
		nonBlank := 0
		for l := range strings.SplitSeq(body, "\n") {
			if strings.TrimSpace(l) != "" {
				nonBlank++
			}
		}
		if len(evs) != nonBlank {
			t.Fatalf("DecodeNDJSON gave %d events for %d non-blank lines", len(evs), nonBlank)
		}
	})
}
