package identity

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/lbm-project/lbm/internal/safetext"
)

func TestParseGradeMap(t *testing.T) {
	for _, c := range []struct {
		in   string
		want GradeMap
	}{
		{"grades:\n  band_e: constable\n  band_a: chief_inspector\n", GradeMap{"band_e": Constable, "band_a": ChiefInspector}},
		{"# comment\ngrades: # more\n  sps_1: superintendent # and more\n", GradeMap{"sps_1": Superintendent}},
		{"grades: {a: commissioner, b: \"sergeant\", c: 'inspector'}\n", GradeMap{"a": Commissioner, "b": Sergeant, "c": Inspector}},
		{"grades: {}\n", GradeMap{}},
		{"---\ngrades:\n  " + strings.Repeat("x", 64) + ": constable\n", GradeMap{strings.Repeat("x", 64): Constable}},
		{"grades:\n  a_1_: constable\n", GradeMap{"a_1_": Constable}},
		// An anchor on a value is harmless; the value is still a string.
		{"grades:\n  a: &r constable\n", GradeMap{"a": Constable}},
	} {
		got, err := ParseGradeMap([]byte(c.in))
		if err != nil {
			t.Errorf("ParseGradeMap(%q) = %v", c.in, err)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("ParseGradeMap(%q) (-want +got):\n%s", c.in, diff)
		}
	}
}

func TestParseGradeMapErrors(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string // the whole message
	}{
		{"grades:\n  band_e: constable\n  band_x: captain\n", `line 3: band_x: unknown rank "captain" (want one of constable, sergeant, inspector, chief_inspector, superintendent, chief_superintendent, commander, deputy_assistant_commissioner, assistant_commissioner, deputy_commissioner, commissioner)`},
		{"grades:\n  band_e: Constable\n", `line 2: band_e: unknown rank "Constable" (want one of constable, sergeant, inspector, chief_inspector, superintendent, chief_superintendent, commander, deputy_assistant_commissioner, assistant_commissioner, deputy_commissioner, commissioner)`},
		{"grades:\n  band_e:\n", `line 2: band_e: want a rank id`},
		{"grades:\n  band_e: ''\n", `line 2: band_e: want a rank id`},
		{"grades:\n  band_e: ~\n", `line 2: band_e: want a rank id`},
		{"grades:\n  band_e: 3\n", `line 2: band_e: want a rank id`},
		{"grades:\n  band_e: [constable]\n", `line 2: band_e: want a rank id`},
		{"grades:\n  band_e: {rank: constable}\n", `line 2: band_e: want a rank id`},
		{"grades:\n  band_e: !!binary Y29uc3RhYmxl\n", `line 2: band_e: want a rank id`},
		{"x: &a constable\ngrades:\n  band_e: *a\n", `line 1: x: unknown key (the only key is "grades")`},
		{"grades:\n  Band_E: constable\n", `line 2: Band_E: not a grade id (want snake_case: a-z, 0-9 and _, starting with a letter, at most 64 characters)`},
		{"grades:\n  \"\\e[2J\": constable\n", `line 2: "\x1b[2J": not a grade id (want snake_case: a-z, 0-9 and _, starting with a letter, at most 64 characters)`},
		{"\"\\e[2J\": x\n", `line 1: "\x1b[2J": unknown key (the only key is "grades")`},
		// yaml.v3 quotes little of the input in its messages; we escape it.
		{"!%00", "line 1: want a mapping, not !\\x00"},
		{"grades: !%E2%80%AE x\n", "line 1: want a mapping, not !\\u202e"},
		{"grades:\n  a: !%E2%80%AE constable\n", "line 2: a: want a rank id"},
		{"grades: !%FF {}\n", "found an incorrect leading UTF-8 octet"},
		{"grades:\n  \"\\e\": constable\n  \"\\e\": constable\n", `line 3: "\x1b": duplicate of line 2`},
		{"grades:\n  1band: constable\n", `line 2: 1band: not a grade id (want snake_case: a-z, 0-9 and _, starting with a letter, at most 64 characters)`},
		{"grades:\n  band-e: constable\n", `line 2: band-e: not a grade id (want snake_case: a-z, 0-9 and _, starting with a letter, at most 64 characters)`},
		{"grades:\n  " + strings.Repeat("x", 65) + ": constable\n", `line 2: ` + strings.Repeat("x", 65) + `: not a grade id (want snake_case: a-z, 0-9 and _, starting with a letter, at most 64 characters)`},
		// The error is the first bad key by line, whatever the map order.
		{"grades:\n  a: constable\n  b: x\n  c: y\n  d: z\n", `line 3: b: unknown rank "x" (want one of constable, sergeant, inspector, chief_inspector, superintendent, chief_superintendent, commander, deputy_assistant_commissioner, assistant_commissioner, deputy_commissioner, commissioner)`},
		// Duplicate keys: yaml.v3 refuses them when decoding into a map.
		{"grades:\n  band_e: constable\n  band_d: sergeant\n  band_e: inspector\n", `line 4: band_e: duplicate of line 2`},
		{"grades:\n  band_e: constable\n  'band_e': constable\n", `line 3: band_e: duplicate of line 2`},
		{"grades:\n  a: constable\ngrades:\n  b: constable\n", `line 3: grades: duplicate of line 1`},
		// Unknown top-level keys.
		{"grades:\n  band_e: constable\nranks:\n  x: y\n", `line 3: ranks: unknown key (the only key is "grades")`},
		{"Grades:\n  band_e: constable\n", `line 1: Grades: unknown key (the only key is "grades")`},
		// Shape.
		{"", `line 1: empty grade map (want a "grades" mapping)`},
		{"# nothing\n", `line 1: empty grade map (want a "grades" mapping)`},
		{"grades:\n", `line 1: grades: missing (want a mapping of grade to rank)`},
		{"{}\n", `line 1: grades: missing (want a mapping of grade to rank)`},
		{"grades: constable\n", `line 1: want a mapping, not !!str`},
		{"grades:\n  - band_e\n", `line 2: want a mapping, not !!seq`},
		{"grades:\n  ? [a, b]\n  : constable\n", `line 2: want a grade id, not !!seq`},
		{"- band_e\n", `line 1: want a mapping, not !!seq`},
		{"grades:\n  band_e: constable\n---\ngrades: {}\n", `line 3: more than one YAML document`},
		{"grades:\n  band_e: constable\n ba: d: x\n", `line 2: did not find expected key`},
		{"grades: [\n", `line 1: did not find expected node content`},
		{"grades:\n  " + strings.Repeat("a", MaxGradeMapSize) + ": constable\n", `grade map longer than 65536 bytes`},
	} {
		_, err := ParseGradeMap([]byte(c.in))
		var re *RowError
		if !errors.As(err, &re) {
			t.Errorf("ParseGradeMap(%q) = %v, want a *RowError", c.in, err)
			continue
		}
		if got := err.Error(); got != c.want {
			t.Errorf("ParseGradeMap(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestDefaultGradeMap(t *testing.T) {
	m := DefaultGradeMap()
	// The bands, lowest first, then the senior police staff levels; each
	// counts as at least the one before it.
	order := []string{"band_e", "band_d", "band_c", "band_b", "band_a", "sps_1", "sps_2", "sps_3", "sps_4", "sps_5"}
	if len(m) != len(order) {
		t.Errorf("DefaultGradeMap() has %d grades, want %d: %v", len(m), len(order), m)
	}
	var prev Rank
	for _, g := range order {
		r, ok := m.Rank(g)
		if !ok {
			t.Errorf("DefaultGradeMap().Rank(%q) = _, false", g)
			continue
		}
		if !r.AtLeast(prev) {
			t.Errorf("DefaultGradeMap(): %s counts as %s, below the grade before it (%s)", g, r, prev)
		}
		prev = r
	}
	// Nobody on staff is the Commissioner or their deputy.
	for g, r := range m {
		if r.AtLeast(DeputyCommissioner) {
			t.Errorf("DefaultGradeMap(): %s counts as %s", g, r)
		}
	}
}

func TestGradeMapRank(t *testing.T) {
	m := GradeMap{"band_e": Constable}
	if r, ok := m.Rank("band_e"); r != Constable || !ok {
		t.Errorf("Rank(band_e) = %q, %v, want constable, true", r, ok)
	}
	for _, g := range []string{"", "band_d", "BAND_E"} {
		if r, ok := m.Rank(g); r != "" || ok {
			t.Errorf("Rank(%q) = %q, %v, want \"\", false", g, r, ok)
		}
	}
	if r, ok := GradeMap(nil).Rank("band_e"); r != "" || ok {
		t.Errorf("nil GradeMap: Rank(band_e) = %q, %v, want \"\", false", r, ok)
	}
}

// FuzzParseGradeMap checks that ParseGradeMap never panics, that every
// error is a *RowError, and that what it accepts holds only valid grades
// and ranks and reads back the same once written out again.
func FuzzParseGradeMap(f *testing.F) {
	f.Add(defaultGrades)
	for _, s := range []string{
		"grades:\n  band_e: constable\n",
		"grades: {}\n",
		"grades:\n  band_e: constable\n  band_e: sergeant\n",
		"x: 1\n",
		"grades:\n  a: &r constable\n  b: *r\n",
		"grades: !!map {a: constable}\n",
		"---\ngrades: {a: commissioner}\n...\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseGradeMap(data)
		if err != nil {
			var re *RowError
			if !errors.As(err, &re) {
				t.Fatalf("ParseGradeMap(%q) = %v (%T), want a *RowError", data, err, err)
			}
			// Messages go to terminals: the input's bytes are quoted.
			if msg := err.Error(); strings.ContainsFunc(msg, safetext.Hidden) || !utf8.ValidString(msg) {
				t.Fatalf("ParseGradeMap(%q): error %q holds a control character", data, msg)
			}
			return
		}
		for g, r := range m {
			if !gradeID.MatchString(g) || r.Level() == 0 {
				t.Fatalf("ParseGradeMap(%q) accepted %q: %q", data, g, r)
			}
		}
		out, err := yaml.Marshal(struct {
			Grades GradeMap `yaml:"grades"`
		}{m})
		if err != nil {
			t.Fatal(err)
		}
		m2, err := ParseGradeMap(out)
		if err != nil {
			t.Fatalf("ParseGradeMap(%q) = %v; it was written from %q", out, err, data)
		}
		if diff := cmp.Diff(m, m2); diff != "" {
			t.Fatalf("round trip of %q (-first +second):\n%s", data, diff)
		}
	})
}
