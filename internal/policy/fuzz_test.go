package policy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// FuzzParseCatalogue checks that ParseCatalogue never panics, that what it
// refuses it refuses with a *ParseError naming the file, and that what it
// accepts survives a round trip: written out again with yaml.Marshal (the
// types' yaml tags are the file format), it parses to the same catalogue.
func FuzzParseCatalogue(f *testing.F) {
	read := func(name string) []byte {
		b, err := embedded.ReadFile("catalogue/" + name)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	purposes, legislation, criteria := read(purposesFile), read(legislationFile), read(criteriaFile)
	f.Add(purposes, legislation, criteria)
	f.Add([]byte(okPurposes), []byte(okLegislation), []byte(okCriteria))
	f.Add([]byte("purposes:\n  - {id: A, title: \"a\\u200db\", explanation: e, reference: r, verify: true, monitor_only: true, restricted_to: b}\n"), legislation, criteria)
	f.Add([]byte("purposes:\n  - &a {id: A, title: t, explanation: e, reference: r}\n  - *a\n"), []byte(okLegislation+"  - ~\n"), []byte("criteria: []\n"))

	f.Fuzz(func(t *testing.T, purposes, legislation, criteria []byte) {
		c, err := ParseCatalogue(purposes, legislation, criteria)
		if err != nil {
			pe, ok := err.(*ParseError)
			if !ok || pe.File == "" || pe.Msg == "" {
				t.Fatalf("ParseCatalogue = %#v, want a *ParseError naming the file", err)
			}
			return
		}
		marshal := func(v any) []byte {
			b, err := yaml.Marshal(v)
			if err != nil {
				t.Fatalf("yaml.Marshal(%+v): %v", v, err)
			}
			return b
		}
		p := marshal(struct {
			Purposes []Purpose `yaml:"purposes"`
		}{c.Purposes})
		l := marshal(struct {
			Legislation []Law `yaml:"legislation"`
		}{c.Legislation})
		k := marshal(struct {
			Criteria []Criterion `yaml:"criteria"`
		}{c.Criteria})
		again, err := ParseCatalogue(p, l, k)
		if err != nil {
			t.Fatalf("ParseCatalogue(yaml.Marshal(%+v)) = %v\n%s\n%s\n%s", c, err, p, l, k)
		}
		if diff := cmp.Diff(c, again); diff != "" {
			t.Fatalf("ParseCatalogue(yaml.Marshal(c)) (-c +again):\n%s", diff)
		}
	})
}
