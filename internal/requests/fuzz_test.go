package requests

import (
	"testing"
	"unicode/utf8"
)

// FuzzSimilarity: the similarity of any two texts is symmetric, within
// [0, 1], 1 for a text and its re-spaced, re-cased copy, and the rule's
// verdict never depends on the order the texts are compared in.
func FuzzSimilarity(f *testing.F) {
	f.Add("The subject searched the PNC for his neighbour.", "the subject searched the pnc for his neighbour")
	f.Add(".", "")
	f.Add("ab", "abc")
	f.Fuzz(func(t *testing.T, a, b string) {
		if !utf8.ValidString(a) || !utf8.ValidString(b) || len(a) > 2000 || len(b) > 2000 {
			return
		}
		ab, ba := Similarity(a, b), Similarity(b, a)
		if ab != ba {
			t.Fatalf("Similarity(%q, %q) = %v but reversed %v", a, b, ab, ba)
		}
		if ab < 0 || ab > 1 {
			t.Fatalf("Similarity(%q, %q) = %v, outside [0, 1]", a, b, ab)
		}
		if s := Similarity(a, "  "+a+"\n"); s != 1 {
			t.Fatalf("Similarity of %q and itself re-spaced = %v, want 1", a, s)
		}
		if Normalize(Normalize(a)) != Normalize(a) {
			t.Fatalf("Normalize is not idempotent on %q", a)
		}
	})
}
