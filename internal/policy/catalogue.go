package policy

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/lbm-project/lbm/internal/safetext"
	"github.com/lbm-project/lbm/internal/strictyaml"
)

// A Purpose is a lawful purpose for monitoring a system's own
// communications (LEGAL.md §1): one of the purposes of SI 2018/356 reg 3.
// Every live-monitoring authorisation names the purpose it relies on.
//
// The yaml tags give the catalogue file's keys, so that yaml.Marshal of a
// Purpose writes what ParseCatalogue reads.
type Purpose struct {
	ID          string `json:"id" yaml:"id"` // e.g. "PREVENT_DETECT_CRIME"
	Title       string `json:"title" yaml:"title"`
	Explanation string `json:"explanation" yaml:"explanation"`
	Reference   string `json:"reference" yaml:"reference"` // e.g. "SI 2018/356 reg 3(2)(a)"
	// Verify is set when the reference still needs checking against the
	// legislation; it must be shown wherever the purpose is offered.
	Verify bool `json:"verify" yaml:"verify"`
	// MonitorOnly is set when the purpose may authorise monitoring but
	// never recording (SI 2018/356 reg 3(3) and 3(4)).
	MonitorOnly bool `json:"monitor_only" yaml:"monitor_only"`
	// RestrictedTo says who alone may rely on the purpose; "" for anyone.
	RestrictedTo string `json:"restricted_to,omitempty" yaml:"restricted_to,omitempty"`
}

// A Law is one entry of the legislation register: other law a monitoring
// policy cites (LEGAL.md §2).
type Law struct {
	ID          string `json:"id" yaml:"id"` // e.g. "DPA_2018_S62"
	Title       string `json:"title" yaml:"title"`
	Explanation string `json:"explanation" yaml:"explanation"`
	Reference   string `json:"reference" yaml:"reference"` // e.g. "Data Protection Act 2018, s.62"
	// Verify is set when the entry still needs checking against the
	// legislation; it must be shown wherever the entry is.
	Verify bool `json:"verify" yaml:"verify"`
}

// A Criterion is one question of the proportionality test (Bărbulescu v
// Romania, LEGAL.md §3). Every request answers each, and every authoriser
// records a view on each.
type Criterion struct {
	ID          string `json:"id" yaml:"id"` // e.g. "LESS_INTRUSIVE"
	Title       string `json:"title" yaml:"title"`
	Question    string `json:"question" yaml:"question"` // what the request form asks
	Explanation string `json:"explanation" yaml:"explanation"`
	Reference   string `json:"reference" yaml:"reference"`
}

// A Catalogue is the lists administrators edit under dual control, each in
// the order of its file. Ids are unique within a list (a purpose and a law
// may share one).
//
// Categories, with their retention schedule, come from categories.yaml;
// [Files.Parse] and [Default] always fill them, so that every catalogue in
// force says how long each kind of activity is kept. [ParseCatalogue]
// reads only the other three files and leaves them empty.
type Catalogue struct {
	Purposes    []Purpose   `json:"purposes"`
	Legislation []Law       `json:"legislation"`
	Criteria    []Criterion `json:"criteria"`
	Categories  Categories  `json:"categories"`
}

// Purpose returns the purpose with the given id, and whether there is one.
// It searches the list in order: the catalogue is small.
func (c Catalogue) Purpose(id string) (Purpose, bool) {
	i := slices.IndexFunc(c.Purposes, func(p Purpose) bool { return p.ID == id })
	if i < 0 {
		return Purpose{}, false
	}
	return c.Purposes[i], true
}

// Law returns the register entry with the given id, and whether there is
// one.
func (c Catalogue) Law(id string) (Law, bool) {
	i := slices.IndexFunc(c.Legislation, func(l Law) bool { return l.ID == id })
	if i < 0 {
		return Law{}, false
	}
	return c.Legislation[i], true
}

// Criterion returns the criterion with the given id, and whether there is
// one.
func (c Catalogue) Criterion(id string) (Criterion, bool) {
	i := slices.IndexFunc(c.Criteria, func(k Criterion) bool { return k.ID == id })
	if i < 0 {
		return Criterion{}, false
	}
	return c.Criteria[i], true
}

//go:embed catalogue/*.yaml
var embedded embed.FS

var defaultCatalogue = sync.OnceValue(func() Catalogue {
	c, err := DefaultFiles().Parse()
	if err != nil {
		// The files are part of the binary and TestDefault parses them,
		// so this cannot happen in a tested build.
		panic("policy: parsing the embedded catalogue: " + err.Error())
	}
	return c
})

// Default returns the catalogue embedded in the binary (catalogue/*.yaml,
// taken from LEGAL.md), with the embedded data categories. The embedded
// files are checked by a test, so Default panics only on a build that
// skipped it. The files are parsed once; each call returns fresh slices,
// so a caller may change its copy.
func Default() Catalogue {
	c := defaultCatalogue()
	return Catalogue{
		Purposes:    slices.Clone(c.Purposes),
		Legislation: slices.Clone(c.Legislation),
		Criteria:    slices.Clone(c.Criteria),
		Categories:  slices.Clone(c.Categories),
	}
}

// Bounds on a catalogue file. They keep a mistaken or hostile file from
// costing much to read (yaml.v3's duplicate-key check is quadratic in the
// keys of a mapping) and keep the text short enough to show on a form.
const (
	// MaxFileSize is the largest catalogue file ParseCatalogue reads, in
	// bytes. The shipped files are a few KiB.
	MaxFileSize = 256 << 10
	// MaxItems is the most items a catalogue file may list.
	MaxItems = 1000

	// Field bounds, in bytes.
	maxTitle       = 200
	maxExplanation = 2000
	maxReference   = 200
	maxQuestion    = 500
	maxRestricted  = 200

	// maxKeys bounds every mapping before yaml.v3 decodes it; an item has
	// at most seven keys.
	maxKeys = 16
)

// The names ParseErrors give the three files: those of the embedded files.
const (
	purposesFile    = "purposes.yaml"
	legislationFile = "legislation.yaml"
	criteriaFile    = "criteria.yaml"
)

var idPattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)

// A ParseError is one problem in a catalogue file: the file
// ("purposes.yaml", "legislation.yaml", "criteria.yaml", "categories.yaml"
// or "detection.yaml"), the 1-based line (0 when the problem is not on one
// line), the key that is wrong ("" when it is not one key), and what is
// wrong. Every error ParseCatalogue, ParseCategories and ParseDetection
// return for malformed input is a *ParseError.
type ParseError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	b.WriteString(": ")
	if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ParseCatalogue parses three of the catalogue files, each a YAML mapping with
// one key (purposes, legislation or criteria) whose value is a list of
// items:
//
//	purposes:
//	  - id: PREVENT_DETECT_CRIME
//	    title: Prevent or detect crime
//	    explanation: >-
//	      Monitoring or recording to prevent or detect crime.
//	    reference: SI 2018/356 reg 3(2)
//	    verify: true
//	    monitor_only: false
//
// Items are kept in file order. Parsing is strict, because the files say
// what the law allows: unknown keys are refused (monitor_only and
// restricted_to exist only on purposes, question only on criteria, verify
// not on criteria); ids match [A-Z][A-Z0-9_]{0,63} and are unique within a
// file; id, title, explanation and reference (and question on criteria)
// are required, as is restricted_to when present; verify and monitor_only
// are true or false and default to false. Text is a YAML string (quote a
// title such as 2018), valid UTF-8, without control or other hidden
// characters or surrounding spaces, and at most 200 bytes for titles,
// references and restricted_to, 2000 for explanations and 500 for
// questions. Each file holds one document, of at most [MaxFileSize] bytes
// and at most [MaxItems] items, and at least one item; anchors, aliases
// and merge keys are refused, so each item reads on its own.
//
// Every error for malformed input is a *[ParseError] naming the file, the
// line and the key, e.g. `purposes.yaml: line 12: title: missing`; the
// first problem found is reported.
//
// The catalogue returned has no Categories: [Files.Parse] reads the fourth
// file, categories.yaml, as well, and is what reads a whole catalogue.
func ParseCatalogue(purposes, legislation, criteria []byte) (Catalogue, error) {
	var c Catalogue
	var err error
	if c.Purposes, err = parseList(purposes, purposeSchema); err != nil {
		return Catalogue{}, err
	}
	if c.Legislation, err = parseList(legislation, lawSchema); err != nil {
		return Catalogue{}, err
	}
	if c.Criteria, err = parseList(criteria, criterionSchema); err != nil {
		return Catalogue{}, err
	}
	return c, nil
}

// The YAML documents. Values are decoded into nodes, which keep their line
// numbers for error messages; decoding into structs (not maps) lets
// KnownFields refuse unknown keys.
type (
	purposeItem struct {
		ID           yaml.Node `yaml:"id"`
		Title        yaml.Node `yaml:"title"`
		Explanation  yaml.Node `yaml:"explanation"`
		Reference    yaml.Node `yaml:"reference"`
		Verify       yaml.Node `yaml:"verify"`
		MonitorOnly  yaml.Node `yaml:"monitor_only"`
		RestrictedTo yaml.Node `yaml:"restricted_to"`
	}
	lawItem struct {
		ID          yaml.Node `yaml:"id"`
		Title       yaml.Node `yaml:"title"`
		Explanation yaml.Node `yaml:"explanation"`
		Reference   yaml.Node `yaml:"reference"`
		Verify      yaml.Node `yaml:"verify"`
	}
	criterionItem struct {
		ID          yaml.Node `yaml:"id"`
		Title       yaml.Node `yaml:"title"`
		Question    yaml.Node `yaml:"question"`
		Explanation yaml.Node `yaml:"explanation"`
		Reference   yaml.Node `yaml:"reference"`
	}
	purposesDoc struct {
		Items []purposeItem `yaml:"purposes"`
	}
	legislationDoc struct {
		Items []lawItem `yaml:"legislation"`
	}
	criteriaDoc struct {
		Items []criterionItem `yaml:"criteria"`
	}
)

// A schema is what parseList needs to know about one file.
type schema[Doc, Item, T any] struct {
	file  string // the file's name in errors
	key   string // its one top-level key
	keys  string // its items' keys, for the unknown-key message
	items func(*Doc) []Item
	// convert checks one item, whose mapping starts at line, and returns
	// it; its errors lack File.
	convert func(it *Item, line int) (T, *ParseError)
	id      func(T) string
}

var purposeSchema = schema[purposesDoc, purposeItem, Purpose]{
	file:  purposesFile,
	key:   "purposes",
	keys:  "id, title, explanation, reference, verify, monitor_only, restricted_to",
	items: func(d *purposesDoc) []purposeItem { return d.Items },
	convert: func(it *purposeItem, line int) (p Purpose, err *ParseError) {
		p.ID, err = idField(&it.ID, line)
		if err == nil {
			p.Title, err = textField(&it.Title, line, "title", maxTitle)
		}
		if err == nil {
			p.Explanation, err = textField(&it.Explanation, line, "explanation", maxExplanation)
		}
		if err == nil {
			p.Reference, err = textField(&it.Reference, line, "reference", maxReference)
		}
		if err == nil {
			p.Verify, err = boolField(&it.Verify, "verify")
		}
		if err == nil {
			p.MonitorOnly, err = boolField(&it.MonitorOnly, "monitor_only")
		}
		if err == nil && it.RestrictedTo.Kind != 0 {
			p.RestrictedTo, err = textField(&it.RestrictedTo, line, "restricted_to", maxRestricted)
		}
		return p, err
	},
	id: func(p Purpose) string { return p.ID },
}

var lawSchema = schema[legislationDoc, lawItem, Law]{
	file:  legislationFile,
	key:   "legislation",
	keys:  "id, title, explanation, reference, verify",
	items: func(d *legislationDoc) []lawItem { return d.Items },
	convert: func(it *lawItem, line int) (l Law, err *ParseError) {
		l.ID, err = idField(&it.ID, line)
		if err == nil {
			l.Title, err = textField(&it.Title, line, "title", maxTitle)
		}
		if err == nil {
			l.Explanation, err = textField(&it.Explanation, line, "explanation", maxExplanation)
		}
		if err == nil {
			l.Reference, err = textField(&it.Reference, line, "reference", maxReference)
		}
		if err == nil {
			l.Verify, err = boolField(&it.Verify, "verify")
		}
		return l, err
	},
	id: func(l Law) string { return l.ID },
}

var criterionSchema = schema[criteriaDoc, criterionItem, Criterion]{
	file:  criteriaFile,
	key:   "criteria",
	keys:  "id, title, question, explanation, reference",
	items: func(d *criteriaDoc) []criterionItem { return d.Items },
	convert: func(it *criterionItem, line int) (k Criterion, err *ParseError) {
		k.ID, err = idField(&it.ID, line)
		if err == nil {
			k.Title, err = textField(&it.Title, line, "title", maxTitle)
		}
		if err == nil {
			k.Question, err = textField(&it.Question, line, "question", maxQuestion)
		}
		if err == nil {
			k.Explanation, err = textField(&it.Explanation, line, "explanation", maxExplanation)
		}
		if err == nil {
			k.Reference, err = textField(&it.Reference, line, "reference", maxReference)
		}
		return k, err
	},
	id: func(k Criterion) string { return k.ID },
}

// parseList parses one catalogue file. It reads the YAML twice: first into
// a node tree, to check what a struct decode cannot see (aliases, merge
// keys, the size of mappings) and to find each item's line; then into the
// schema's structs with KnownFields, to refuse unknown and duplicate keys.
func parseList[Doc, Item, T any](data []byte, s schema[Doc, Item, T]) ([]T, error) {
	fail := func(e *ParseError) ([]T, error) {
		e.File = s.file
		return nil, e
	}
	if len(data) > MaxFileSize {
		return fail(&ParseError{Msg: fmt.Sprintf("longer than %d bytes", MaxFileSize)})
	}

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if err == io.EOF {
			return fail(&ParseError{Line: 1, Msg: fmt.Sprintf("empty file (want a %q list)", s.key)})
		}
		return fail(yamlError(err, s))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		if err != nil {
			return fail(yamlError(err, s))
		}
		return fail(&ParseError{Line: extra.Line, Msg: "more than one YAML document"})
	}
	if e := checkTree(&root); e != nil {
		return fail(e)
	}

	dec = yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var doc Doc
	if err := dec.Decode(&doc); err != nil {
		return fail(yamlError(err, s))
	}
	items := s.items(&doc)
	if items == nil {
		return fail(&ParseError{Line: 1, Field: s.key, Msg: "missing (want a list of items)"})
	}
	// The decode succeeded, so the tree is a document holding a mapping
	// whose one key's value is the list of items.
	list := root.Content[0].Content[1]
	if len(items) == 0 {
		return fail(&ParseError{Line: list.Line, Field: s.key, Msg: "empty list (want at least one item)"})
	}
	if len(items) > MaxItems {
		return fail(&ParseError{Line: list.Line, Field: s.key, Msg: fmt.Sprintf("more than %d items", MaxItems)})
	}
	// yaml.v3 drops null items from the list: refuse them, and anything
	// else that is not a mapping, so that items and nodes line up.
	for _, n := range list.Content {
		if n.Kind != yaml.MappingNode {
			return fail(&ParseError{Line: n.Line, Field: s.key, Msg: "want each item to be a mapping, not " + safetext.Escape(n.ShortTag())})
		}
	}
	if len(items) != len(list.Content) {
		return fail(&ParseError{Line: list.Line, Field: s.key, Msg: "want a list of mappings"})
	}
	out := make([]T, 0, len(items))
	seen := make(map[string]int, len(items)) // id → line
	for i := range items {
		line := list.Content[i].Line
		t, e := s.convert(&items[i], line)
		if e != nil {
			return fail(e)
		}
		id := s.id(t)
		if first, ok := seen[id]; ok {
			return fail(&ParseError{Line: line, Field: "id", Msg: fmt.Sprintf("duplicate id %s (first at line %d)", id, first)})
		}
		seen[id] = line
		out = append(out, t)
	}
	return out, nil
}

// checkTree refuses aliases and merge keys, and mappings with more keys
// than any catalogue mapping has (strictyaml.CheckTree).
func checkTree(n *yaml.Node) *ParseError {
	if p := strictyaml.CheckTree(n, maxKeys, "item", false); p != nil {
		return &ParseError{Line: p.Line, Field: p.Field, Msg: p.Msg}
	}
	return nil
}

// idField returns the id in n, an item's id key.
func idField(n *yaml.Node, itemLine int) (string, *ParseError) {
	v, err := textField(n, itemLine, "id", 64)
	if err != nil {
		return "", err
	}
	if !idPattern.MatchString(v) {
		return "", &ParseError{Line: n.Line, Field: "id", Msg: fmt.Sprintf("%s is not an id (want A-Z, 0-9 and _, starting with a letter, at most 64 characters)", safetext.Quote(v))}
	}
	return v, nil
}

// textField returns the text in n, the value of key name in the item at
// itemLine: a non-empty YAML string of at most max bytes, valid UTF-8,
// with no hidden characters and no surrounding spaces.
func textField(n *yaml.Node, itemLine int, name string, max int) (string, *ParseError) {
	fail := func(line int, format string, args ...any) (string, *ParseError) {
		return "", &ParseError{Line: line, Field: name, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case n.Kind == 0:
		return fail(itemLine, "missing")
	case n.Kind != yaml.ScalarNode:
		return fail(n.Line, "want text, not %s", kindName(n.Kind))
	case n.ShortTag() == "!!null" || n.ShortTag() == "!!str" && n.Value == "":
		return fail(n.Line, "empty")
	case n.ShortTag() != "!!str":
		return fail(n.Line, "want text, not %s (put it in quotes)", safetext.Escape(n.ShortTag()))
	case !utf8.ValidString(n.Value):
		return fail(n.Line, "not valid UTF-8")
	case strings.ContainsFunc(n.Value, safetext.Hidden):
		i := strings.IndexFunc(n.Value, safetext.Hidden)
		r, _ := utf8.DecodeRuneInString(n.Value[i:])
		return fail(n.Line, "contains the hidden character %U (text is one line, without control characters)", r)
	case strings.TrimSpace(n.Value) != n.Value:
		return fail(n.Line, "starts or ends with a space")
	case len(n.Value) > max:
		return fail(n.Line, "longer than %d bytes", max)
	}
	return n.Value, nil
}

// boolField returns the value of the optional key name: false when n is
// absent, else true or false as written (not True, yes or "true").
func boolField(n *yaml.Node, name string) (bool, *ParseError) {
	if n.Kind == 0 {
		return false, nil
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		switch n.Value {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, &ParseError{Line: n.Line, Field: name, Msg: "want true or false"}
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	return "an alias"
}

// yaml.v3 error texts.
var (
	yamlLine       = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	yamlUnknownKey = regexp.MustCompile(`^field (.*) not found in type \S+$`)
	yamlDuplicate  = regexp.MustCompile(`^mapping key "(.*)" already defined at line (\d+)$`)
	yamlWrongType  = regexp.MustCompile(`^cannot unmarshal (!\S*)(?: .*)? into (\S+)$`)
)

// yamlError turns a yaml.v3 error into a *ParseError, without File. Only
// its text is kept (not wrapped): the YAML library's types are not part of
// our API. yaml.v3 puts some of the input in its messages (a key, a tag),
// and messages go to terminals, so hidden characters are escaped.
func yamlError[Doc, Item, T any](err error, s schema[Doc, Item, T]) *ParseError {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		return &ParseError{Msg: safetext.Escape(strings.TrimPrefix(msg, "yaml: "))}
	}
	e := &ParseError{Msg: m[2]}
	e.Line, _ = strconv.Atoi(m[1])
	if k := yamlUnknownKey.FindStringSubmatch(e.Msg); k != nil {
		e.Field = safetext.Quote(k[1])
		switch {
		case strings.HasSuffix(e.Msg, "Doc"):
			e.Msg = fmt.Sprintf("unknown key (the only key is %q)", s.key)
		case k[1] == "monitor_only" || k[1] == "restricted_to":
			e.Msg = fmt.Sprintf("unknown key (only purposes have %s; the keys are %s)", k[1], s.keys)
		default:
			e.Msg = fmt.Sprintf("unknown key (the keys are %s)", s.keys)
		}
	} else if k := yamlDuplicate.FindStringSubmatch(e.Msg); k != nil {
		key, err := strconv.Unquote(`"` + k[1] + `"`)
		if err != nil {
			key = k[1]
		}
		e.Field, e.Msg = safetext.Quote(key), "duplicate of line "+k[2]
	} else if k := yamlWrongType.FindStringSubmatch(e.Msg); k != nil {
		switch {
		case strings.HasPrefix(k[2], "[]"):
			e.Field, e.Msg = s.key, "want a list of items, not "+k[1]
		case strings.HasSuffix(k[2], "Item"):
			e.Field, e.Msg = s.key, "want each item to be a mapping, not "+k[1]
		default:
			e.Msg = "want a mapping, not " + k[1]
		}
	}
	e.Msg = safetext.Escape(e.Msg)
	return e
}
