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

// FuzzParseCategories checks ParseCategories the way FuzzParseCatalogue
// checks ParseCatalogue: no panic, a *ParseError naming the file for what
// it refuses, and a yaml.Marshal round trip for what it accepts.
func FuzzParseCategories(f *testing.F) {
	b, err := embedded.ReadFile("catalogue/" + categoriesFile)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(okCategories))
	f.Add([]byte("categories:\n  - {id: device, title: t, collected: c, content: '', retention_months: 12, content_retention_months: 0}\n"))
	f.Add([]byte("categories:\n  - {id: email, title: t, collected: c, content: x, retention_months: 0x0C, content_retention_months: 6}\n"))
	f.Add([]byte("categories:\n  - {id: email, title: t, collected: c, content: , retention_months: 12, content_retention_months: 06}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, err := ParseCategories(data)
		if err != nil {
			if pe, ok := err.(*ParseError); !ok || pe.File != categoriesFile || pe.Msg == "" {
				t.Fatalf("ParseCategories = %#v, want a *ParseError naming %s", err, categoriesFile)
			}
			return
		}
		out, err := yaml.Marshal(struct {
			Categories Categories `yaml:"categories"`
		}{cs})
		if err != nil {
			t.Fatalf("yaml.Marshal(%+v): %v", cs, err)
		}
		again, err := ParseCategories(out)
		if err != nil {
			t.Fatalf("ParseCategories(yaml.Marshal(%+v)) = %v\n%s", cs, err, out)
		}
		if diff := cmp.Diff(cs, again); diff != "" {
			t.Fatalf("ParseCategories(yaml.Marshal(cs)) (-cs +again):\n%s", diff)
		}
	})
}

// FuzzParseDetection checks ParseDetection the way FuzzParseCatalogue
// checks ParseCatalogue.
func FuzzParseDetection(f *testing.F) {
	b, err := embedded.ReadFile("catalogue/" + detectionFile)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(okDetection))
	f.Add([]byte("detection:\n  - {id: D, title: t, explanation: e, source: s}\n"))
	f.Add([]byte("detection:\n  - {id: D, title: \"a\\u200db\", explanation: e, special_category: !!bool true, source: s}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDetection(data)
		if err != nil {
			if pe, ok := err.(*ParseError); !ok || pe.File != detectionFile || pe.Msg == "" {
				t.Fatalf("ParseDetection = %#v, want a *ParseError naming %s", err, detectionFile)
			}
			return
		}
		out, err := yaml.Marshal(struct {
			Detection Detection `yaml:"detection"`
		}{d})
		if err != nil {
			t.Fatalf("yaml.Marshal(%+v): %v", d, err)
		}
		again, err := ParseDetection(out)
		if err != nil {
			t.Fatalf("ParseDetection(yaml.Marshal(%+v)) = %v\n%s", d, err, out)
		}
		if diff := cmp.Diff(d, again); diff != "" {
			t.Fatalf("ParseDetection(yaml.Marshal(d)) (-d +again):\n%s", diff)
		}
	})
}
