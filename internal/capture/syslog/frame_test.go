package syslog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// frames reads every frame of stream, as "data" or "data|short".
func frames(t testing.TB, stream io.Reader) ([]string, error) {
	var got []string
	f := NewFramer(stream)
	for {
		fr, err := f.Next()
		if err != nil {
			return got, err
		}
		if len(fr.Data) > MaxFrame {
			t.Fatalf("a frame of %d bytes, longer than MaxFrame", len(fr.Data))
		}
		s := string(fr.Data)
		if fr.Short != "" {
			s += "|" + fr.Short
		}
		got = append(got, s)
	}
}

func octet(msg string) string { return fmt.Sprintf("%d %s", len(msg), msg) }

func TestFramer(t *testing.T) {
	long := strings.Repeat("x", MaxFrame+10)
	for _, tc := range []struct {
		name   string
		stream string
		want   []string
	}{
		{"lines", "<13>one\n<13>two\n", []string{"<13>one", "<13>two"}},
		{"a last line without LF", "<13>one\n<13>two", []string{"<13>one", "<13>two"}},
		{"CR LF", "<13>one\r\n<13>two\r\n", []string{"<13>one", "<13>two"}},
		{"empty lines are skipped", "\n\n<13>one\n\r\n\n<13>two\n", []string{"<13>one", "<13>two"}},
		{"octet counting keeps newlines", octet("<13>1 - - - - - - a\nb") + octet("<13>two\n"), []string{"<13>1 - - - - - - a\nb", "<13>two\n"}},
		{"mixed, frame by frame", octet("<13>a") + "<13>b\n" + octet("<13>c\nd") + "<13>e\n", []string{"<13>a", "<13>b", "<13>c\nd", "<13>e"}},
		{"digits without a space are a line", "12345\n<13>x\n", []string{"12345", "<13>x"}},
		{"digits then a letter are a line", "12a b\n", []string{"12a b"}},
		{"a zero is no length", "0 x\n", []string{"0 x"}},
		{"eleven digits are no length", "12345678901 x\n", []string{"12345678901 x"}},
		{"digits at the end", "<13>a\n42", []string{"<13>a", "42"}},
		{"an octet-counted frame cut short", "10 <13>ab", []string{"<13>ab|the stream ended after 6 of 10 bytes"}},
		{"an oversized octet-counted frame", octet(long) + octet("<13>next"), []string{long[:MaxFrame] + "|longer than 65536 bytes", "<13>next"}},
		{"an oversized line", long + "\n<13>next\n", []string{long[:MaxFrame] + "|longer than 65536 bytes", "<13>next"}},
		{"a line of exactly MaxFrame", long[:MaxFrame] + "\n", []string{long[:MaxFrame]}},
		{"an oversized frame cut short", fmt.Sprintf("%d ", MaxFrame+10) + long[:MaxFrame+2], []string{long[:MaxFrame] + "|longer than 65536 bytes, and the stream ended after 65538 of 65546 bytes"}},
		{"binary garbage", "\x00\xff\x01\n", []string{"\x00\xff\x01"}},
		{"nothing", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// One byte a read: frames must not depend on how reads fall.
			for _, r := range []io.Reader{strings.NewReader(tc.stream), iotest.OneByteReader(strings.NewReader(tc.stream))} {
				got, err := frames(t, r)
				if err != io.EOF {
					t.Errorf("frames(%.40q) ended with %v, want io.EOF", tc.stream, err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("frames(%.40q) (-want +got):\n%s", tc.stream, diff)
				}
			}
		})
	}
}

// TestFramerError: a read error other than io.EOF cuts the line it
// interrupts, which says so, and is returned after it.
func TestFramerError(t *testing.T) {
	broken := errors.New("connection reset")
	got, err := frames(t, io.MultiReader(strings.NewReader("<13>a\n<13>b"), iotest.ErrReader(broken)))
	if err != broken {
		t.Errorf("frames ended with %v, want %v", err, broken)
	}
	want := []string{"<13>a", "<13>b|the stream ended inside the message: connection reset"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("frames (-want +got):\n%s", diff)
	}
}

// FuzzFraming: any stream frames without panic into frames of at most
// MaxFrame bytes, and the frames, octet-counted again, frame back into
// themselves.
func FuzzFraming(f *testing.F) {
	for _, s := range []string{
		"<13>one\n<13>two\n", "<13>one\r\n\n", octet("<13>a\nb") + "<13>b\n", "12345\n", "0 x\n",
		"10 <13>ab", "12345678901 x\n", "\x00\xff\n", "", "3 abc", "50 000000\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		var again bytes.Buffer
		var want []string
		fr := NewFramer(bytes.NewReader(stream))
		for {
			f, err := fr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("framing %q: %v", stream, err)
			}
			if len(f.Data) > MaxFrame || (f.Short == "" && len(f.Data) != f.Size) || len(f.Data) > f.Size {
				t.Fatalf("framing %q: %d bytes of %d, short %q", stream, len(f.Data), f.Size, f.Short)
			}
			if len(f.Data) == 0 {
				continue // a frame cut short before its first byte
			}
			want = append(want, string(f.Data))
			again.WriteString(octet(string(f.Data)))
		}
		back, err := frames(t, &again)
		if err != io.EOF {
			t.Fatalf("frames of the octet-counted frames ended with %v", err)
		}
		if diff := cmp.Diff(want, back); diff != "" {
			t.Fatalf("frames(%q), octet-counted and framed again (-want +got):\n%s", stream, diff)
		}
	})
}
