package evidence

import (
	"archive/zip"
	"bytes"
	"io"
	"strings"
	"testing"
)

// TestSubjectAccessReadme: a bundle answering a person's own request
// verifies like any other, and its README speaks to them without a word
// that could tell them an investigation or a withholding lies behind it;
// an evidence bundle's README is unchanged.
func TestSubjectAccessReadme(t *testing.T) {
	readmeOf := func(b Bundle) string {
		t.Helper()
		zb := writeBundle(t, b)
		if _, err := verify(zb); err != nil {
			t.Fatalf("SubjectAccess %v: the bundle does not verify: %v", b.SubjectAccess, err)
		}
		zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
		if err != nil {
			t.Fatal(err)
		}
		f, err := zr.Open(ReadmeFile)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		text, _ := io.ReadAll(f)
		return strings.ToLower(string(text))
	}
	b := testBundle(t)
	if got := readmeOf(b); !strings.Contains(got, "evidence bundle") || !strings.Contains(got, "authorisation") {
		t.Errorf("the evidence README lost its wording:\n%s", got)
	}
	b.SubjectAccess = true
	got := readmeOf(b)
	if !strings.Contains(got, "your request for a copy of your personal data") || !strings.Contains(got, "lbm verify bundle") {
		t.Errorf("the subject access README does not speak to the person or say how to check:\n%s", got)
	}
	for _, never := range []string{"withh", "exempt", "authoris", "investigat", "hold", "alert", "prejudice", "crime", "evidence"} {
		if strings.Contains(got, never) {
			t.Errorf("the subject access README says %q", never)
		}
	}
}
