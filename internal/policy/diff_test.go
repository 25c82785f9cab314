package policy

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiff(t *testing.T) {
	for _, tc := range []struct {
		name     string
		old, new string
		context  int
		want     []Hunk
	}{
		{"same", "a\nb\n", "a\nb\n", 3, nil},
		{"both empty", "", "", 3, nil},
		{"added to empty", "", "a\n", 3, []Hunk{{{'+', 0, 1, "a"}}}},
		{"all removed", "a\nb\n", "", 3, []Hunk{{{'-', 1, 0, "a"}, {'-', 2, 0, "b"}}}},
		{"one line changed, context 1", "a\nb\nc\nd\ne\n", "a\nb\nX\nd\ne\n", 1, []Hunk{{
			{' ', 2, 2, "b"}, {'-', 3, 0, "c"}, {'+', 0, 3, "X"}, {' ', 4, 4, "d"},
		}}},
		{"two changes far apart are two hunks", "1\n2\n3\n4\n5\n6\n7\n8\n", "X\n2\n3\n4\n5\n6\n7\nY\n", 1, []Hunk{
			{{'-', 1, 0, "1"}, {'+', 0, 1, "X"}, {' ', 2, 2, "2"}},
			{{' ', 7, 7, "7"}, {'-', 8, 0, "8"}, {'+', 0, 8, "Y"}},
		}},
		{"insertion in the middle", "a\nb\nc\n", "a\nb\nnew\nc\n", 0, []Hunk{{{'+', 0, 3, "new"}}}},
		{"CRLF is a line break", "a\r\nb\r\n", "a\nb\n", 3, nil},
		{"no final newline is the same", "a\nb", "a\nb\n", 3, nil},
	} {
		if diff := cmp.Diff(tc.want, Diff([]byte(tc.old), []byte(tc.new), tc.context)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

// TestDiffDefaultFiles: an edit of a shipped file shows just that edit.
func TestDiffDefaultFiles(t *testing.T) {
	old := DefaultFiles().Purposes
	edited := bytes.Replace(old, []byte("title: Prevent or detect crime"), []byte("title: Prevent or detect crime or misconduct"), 1)
	hs := Diff(old, edited, 2)
	if len(hs) != 1 {
		t.Fatalf("%d hunks, want 1: %v", len(hs), hs)
	}
	var changed []string
	for _, l := range hs[0] {
		if l.Op != ' ' {
			changed = append(changed, string(l.Op)+strings.TrimSpace(l.Text))
		}
	}
	if want := []string{"-title: Prevent or detect crime", "+title: Prevent or detect crime or misconduct"}; !cmp.Equal(changed, want) {
		t.Errorf("changed lines %q, want %q", changed, want)
	}
}

// FuzzDiff: whatever the files, the full diff rebuilds the new file from
// the old one, and numbers every line it keeps or removes correctly.
func FuzzDiff(f *testing.F) {
	f.Add([]byte("a\nb\nc\n"), []byte("a\nc\nd\n"))
	f.Add(DefaultFiles().Criteria, []byte("criteria: []\n"))
	f.Fuzz(func(t *testing.T, old, new []byte) {
		if len(old) > 4096 || len(new) > 4096 {
			return
		}
		hs := Diff(old, new, 1<<30)
		if got := apply(old, hs); !slices.Equal(got, lines(new)) {
			t.Fatalf("applying the diff gives %q, want %q", got, lines(new))
		}
		a, b := lines(old), lines(new)
		for _, h := range hs {
			for _, l := range h {
				if l.Old > 0 && a[l.Old-1] != l.Text || l.New > 0 && b[l.New-1] != l.Text {
					t.Fatalf("line %+v does not match the files", l)
				}
			}
		}
	})
}
