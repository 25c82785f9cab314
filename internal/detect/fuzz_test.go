package detect

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/policy"
)

// FuzzParse checks that Parse never panics, that what it refuses it
// refuses with a *ParseError naming the file, and that rules it accepts
// are well formed, compile with lists of the shapes they use, and run on
// a few events without panicking.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "rules", "*.yaml"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(file(rule("a", countRule), rule("b", distRule), rule("c", seqRule), rule("d", seq3Rule))))
	f.Add([]byte(file(rule("a", "lists: [RESTRICTED_RECORDS]\nwhen: in_list(\"RESTRICTED_RECORDS\", user.id, [1, record.id])"))))
	f.Add([]byte(file(rule("a", `when: fields.exists(k, k.matches("^e")) && time > timestamp("2026-01-01T00:00:00Z")`))))
	f.Add([]byte(file(rule("a", "when: &x 'true'"), "  - *x\n")))
	f.Add([]byte("rules:\n  - {id: a, title: \"\\u202e\", when: 'user.id[0]'}\n"))

	inputs := policy.DefaultDetection()
	events := []in{
		{0, lookup("u1", "R1")}, {time.Second, email("u1", "x@gmail.example")},
		{time.Minute, web("u2") + `,"related.user":["u1"],"record.results":3.5`},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := Parse("f.yaml", data, inputs)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Msg == "" || pe.File != "f.yaml" {
				t.Fatalf("Parse = %#v, want a *ParseError naming f.yaml", err)
			}
			return
		}
		lists := Lists{}
		for _, r := range rules {
			if r.ID == "" || r.Title == "" || r.Description == "" || len(r.exprs()) == 0 {
				t.Fatalf("Parse accepted %+v", r)
			}
			for _, x := range r.exprs() {
				if x == nil || x.ast == nil {
					t.Fatalf("rule %s: an expression is missing", r.ID)
				}
				for _, u := range x.uses {
					if u.keyed {
						lists[u.list] = NewKeyedList(map[string][]string{"u1": {"u1", "R1"}})
					} else {
						lists[u.list] = NewList("u1", "R1")
					}
				}
			}
		}
		e, err := Compile(rules, lists, nil)
		if err != nil {
			// A list called both with and without a key has no shape
			// that suits both; anything else is a bug.
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "list: call in_list") {
				t.Fatalf("Compile = %v", err)
			}
			return
		}
		for i, x := range events {
			if _, err := e.Observe(parseEvent(t, i+1, x)); err != nil {
				t.Fatalf("Observe = %v", err)
			}
		}
	})
}

// FuzzListRoundTrip: a list file either fails to parse, or formats to
// bytes that parse to the same list and format again identically.
func FuzzListRoundTrip(f *testing.F) {
	f.Add([]byte("value\nR1\nR2\n"))
	f.Add([]byte("key,value\nu1,\"a,b\"\nu1,\"#x\"\n# a comment\nu2,c\n"))
	f.Add([]byte("key,value\nu1,2026-11-02/2026-11-06\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseList("f.csv", data)
		if err != nil {
			return
		}
		out := FormatList(l)
		back, err := ParseList("f.csv", out)
		if err != nil {
			t.Fatalf("ParseList(FormatList(...)) = %v\n%s", err, out)
		}
		if again := FormatList(back); !bytes.Equal(again, out) {
			t.Fatalf("FormatList changed on a round trip:\n%s\n%s", out, again)
		}
	})
}
