package identity

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/lbm-project/lbm/internal/safetext"
)

// A GradeMap maps police staff grades to the rank each counts as for
// consent levels. Officers hold ranks; police staff hold grades, and a
// force decides which rank each grade is equivalent to (LEGAL.md §4). A
// grade not in the map counts as no rank.
//
// Keys are grade ids: snake_case, matching [a-z][a-z0-9_]{0,63}. Values are
// never the zero Rank.
type GradeMap map[string]Rank

// Rank returns the rank grade counts as, and whether the map has grade.
func (m GradeMap) Rank(grade string) (Rank, bool) {
	r, ok := m[grade]
	return r, ok
}

// MaxGradeMapSize is the largest grade map ParseGradeMap reads, in bytes.
// A force has tens of grades; the bound keeps yaml.v3's duplicate-key
// check, which is quadratic in the number of keys, cheap.
const MaxGradeMapSize = 64 << 10

var gradeID = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// gradeFile is the YAML document. Decoding values into nodes keeps their
// line numbers for error messages; decoding into a Go map (not a node)
// keeps yaml.v3's refusal of duplicate keys.
type gradeFile struct {
	Grades map[string]yaml.Node `yaml:"grades"`
}

// ParseGradeMap parses a grade map from YAML of the form
//
//	# Police staff grades and the rank each counts as for consent levels.
//	grades:
//	  band_e: constable
//	  band_a: chief_inspector
//
// The document must have exactly the one key "grades" (an empty mapping is
// allowed: a force may have no grade with a rank equivalent). Each key
// must be a grade id and each value a rank id (see [ParseRank]); duplicate
// keys are refused. Input over [MaxGradeMapSize] is refused.
//
// Every error for malformed input is a *[RowError] naming the line and the
// key, e.g. `line 4: band_x: unknown rank "captain" (…)`; when several
// keys are wrong, the first by line is reported.
func ParseGradeMap(data []byte) (GradeMap, error) {
	if len(data) > MaxGradeMapSize {
		return nil, &RowError{Msg: fmt.Sprintf("grade map longer than %d bytes", MaxGradeMapSize)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f gradeFile
	if err := dec.Decode(&f); err != nil {
		if err == io.EOF {
			return nil, &RowError{Line: 1, Msg: "empty grade map (want a \"grades\" mapping)"}
		}
		return nil, yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		if err != nil {
			return nil, yamlError(err)
		}
		return nil, &RowError{Line: extra.Line, Msg: "more than one YAML document"}
	}
	if f.Grades == nil {
		return nil, &RowError{Line: 1, Field: "grades", Msg: "missing (want a mapping of grade to rank)"}
	}
	// Check in line order, so that the error reported does not depend on
	// map iteration order.
	keys := make([]string, 0, len(f.Grades))
	for k := range f.Grades {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		na, nb := f.Grades[a], f.Grades[b]
		if c := na.Line - nb.Line; c != 0 {
			return c
		}
		if c := na.Column - nb.Column; c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	m := make(GradeMap, len(f.Grades))
	for _, k := range keys {
		n := f.Grades[k]
		if !gradeID.MatchString(k) {
			return nil, &RowError{Line: n.Line, Field: safetext.Quote(k), Msg: "not a grade id (want snake_case: a-z, 0-9 and _, starting with a letter, at most 64 characters)"}
		}
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" || n.Value == "" {
			return nil, &RowError{Line: n.Line, Field: k, Msg: "want a rank id"}
		}
		r, err := ParseRank(n.Value)
		if err != nil {
			return nil, &RowError{Line: n.Line, Field: k, Msg: err.Error()}
		}
		m[k] = r
	}
	return m, nil
}

// yamlLine matches yaml.v3's "line N: message" error texts.
var (
	yamlLine       = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	yamlUnknownKey = regexp.MustCompile(`^field (.*) not found in type `)
	yamlDuplicate  = regexp.MustCompile(`^mapping key "(.*)" already defined at line (\d+)$`)
	yamlWrongType  = regexp.MustCompile(`^cannot unmarshal (!\S*)(?: .*)? into (\S+)$`)
)

// yamlError turns a yaml.v3 error into a *RowError. Only its text is kept
// (not wrapped): the YAML library's types are not part of our API.
func yamlError(err error) *RowError {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		return &RowError{Msg: safetext.Escape(strings.TrimPrefix(msg, "yaml: "))}
	}
	e := &RowError{Msg: m[2]}
	e.Line, _ = strconv.Atoi(m[1])
	if k := yamlUnknownKey.FindStringSubmatch(e.Msg); k != nil {
		e.Field, e.Msg = safetext.Quote(k[1]), "unknown key (the only key is \"grades\")"
	} else if k := yamlDuplicate.FindStringSubmatch(e.Msg); k != nil {
		key, err := strconv.Unquote(`"` + k[1] + `"`)
		if err != nil {
			key = k[1]
		}
		e.Field, e.Msg = safetext.Quote(key), "duplicate of line "+k[2]
	} else if k := yamlWrongType.FindStringSubmatch(e.Msg); k != nil {
		// Values are decoded into nodes, so only a key (into a string) or
		// a mapping (into a struct or map) can have the wrong type.
		want := "a mapping"
		if k[2] == "string" {
			want = "a grade id"
		}
		e.Msg = "want " + want + ", not " + k[1]
	}
	// yaml.v3 puts some of the input in its messages as it is (a tag, a
	// key), and messages go to terminals.
	e.Msg = safetext.Escape(e.Msg)
	return e
}

//go:embed grades.yaml
var defaultGrades []byte

// DefaultGradeMap returns the grade map lbm ships: Metropolitan Police
// style police staff bands and senior police staff levels. It is a default
// to be replaced by the force's own mapping (see grades.yaml).
func DefaultGradeMap() GradeMap {
	m, err := ParseGradeMap(defaultGrades)
	if err != nil {
		// grades.yaml is part of the binary and TestDefaultGradeMap
		// parses it, so this cannot happen in a tested build.
		panic("identity: parsing the embedded grades.yaml: " + err.Error())
	}
	return m
}
