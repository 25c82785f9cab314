package witness

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

// testKey is a cosignature/v1 verifier key, as litewitness prints one.
const testKey = "witness.example/w1+8a60bbc1+BAMkF0o5LMn4ysLyy2Okw+zvLHr5ghBbGaYh4hPqE+SM"

func newKey(t testing.TB, name string) (skey, vkey string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	if vkey, err = fnote.VKeyToCosignatureV1(vkey); err != nil {
		t.Fatal(err)
	}
	return skey, vkey
}

func TestParse(t *testing.T) {
	_, key2 := newKey(t, "w2.example")
	good := "witnesses:\n  - name: w1\n    url: https://witness.example/\n    key: " + testKey +
		"\n  - name: w2\n    url: http://127.0.0.1:7380\n    key: " + key2 + "\npolicy:\n  quorum: 2\n  fail: closed\n"
	cfg, err := Parse([]byte(good))
	if err != nil {
		t.Fatalf("Parse(good) = %v", err)
	}
	got := []string{cfg.Witnesses[0].Name, cfg.Witnesses[0].URL, cfg.Witnesses[1].URL, string(cfg.Fail)}
	if want := []string{"w1", "https://witness.example", "http://127.0.0.1:7380", "closed"}; !cmp.Equal(got, want) || cfg.Quorum != 2 {
		t.Errorf("Parse(good) = %v quorum %d, want %v quorum 2", got, cfg.Quorum, want)
	}
	def, err := Parse([]byte("witnesses:\n  - name: w1\n    url: https://witness.example\n    key: " + testKey + "\n"))
	if err != nil || def.Quorum != 1 || def.Fail != FailOpen {
		t.Errorf("Parse(no policy) = %+v, %v; want quorum 1, fail open", def, err)
	}

	one := "witnesses:\n  - name: w1\n    url: https://witness.example\n    key: " + testKey + "\n"
	bad := []struct{ in, want string }{
		{"", "line 1: empty file"},
		{"witnesses: []\n", "line 1: witnesses: empty"},
		{"policy:\n  quorum: 1\n", "witnesses: missing"},
		{"witnesses: x\n", "witnesses: want a list"},
		{one + "extra: 1\n", "line 5: extra: unknown key"},
		{one + "policy:\n  quorum: 2\n", "line 6: policy.quorum: 2 is not a whole number from 1 to 1"},
		{one + "policy:\n  quorum: 0\n", "policy.quorum"},
		{one + "policy:\n  fail: maybe\n", "line 6: policy.fail: want open or closed"},
		{one + "policy:\n  fail: true\n", "policy.fail: want open or closed, not"},
		{strings.Replace(one, "name: w1", "name: W 1", 1), "witnesses[0].name"},
		{strings.Replace(one, "https://witness.example", "ftp://witness.example", 1), "witnesses[0].url"},
		{strings.Replace(one, "https://witness.example", "https://u:p@witness.example", 1), "witnesses[0].url"},
		{strings.Replace(one, "https://witness.example", "https://witness.example/?a=b", 1), "witnesses[0].url"},
		{strings.Replace(one, "+8a60bbc1+", "+8a60bbc2+", 1), "witnesses[0].key: the key hash is not the key's"},
		{strings.Replace(one, testKey, "witness.example/w1+8a60bbc1+AQMkF0o5LMn4ysLyy2Okw+zvLHr5ghBbGaYh4hPqE+SM", 1), "witnesses[0].key: not a cosignature/v1"},
		{strings.Replace(one, "    key: "+testKey+"\n", "", 1), "witnesses[0].key: missing"},
		{one + "  - name: w1\n    url: https://other.example\n    key: " + testKey + "\n", "witnesses[1].name: w1 is named twice"},
		{"witnesses: &a\n  - name: w1\n", "anchors are not allowed"},
		{one + "---\nwitnesses: []\n", "more than one YAML document"},
		{"witnesses:\n  - name: w1\n    name: w2\n", "repeated key"},
		{"\xff", "not valid UTF-8"},
		{strings.Repeat("#", MaxFileSize+1), "longer than"},
	}
	for _, tt := range bad {
		_, err := Parse([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tt.in, err, tt.want)
		}
		if _, ok := err.(*ParseError); err != nil && !ok {
			t.Errorf("Parse(%q) = %T, want *ParseError", tt.in, err)
		}
	}
}

// FuzzParse checks that what Parse accepts, Format writes back to a
// configuration Parse reads the same.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yaml")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := Parse(b)
		if err != nil {
			return
		}
		again, err := Parse(Format(cfg))
		if err != nil {
			t.Fatalf("Parse(Format(Parse(%q))) = %v", b, err)
		}
		if diff := cmp.Diff(cfg, again, cmp.Comparer(func(a, b Witness) bool {
			return a.Name == b.Name && a.URL == b.URL && a.Key == b.Key
		})); diff != "" {
			t.Errorf("Parse(Format(Parse(%q))) differs (-first +again):\n%s", b, diff)
		}
	})
}
