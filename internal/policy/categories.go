package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/lbm-project/lbm/internal/safetext"
)

// A DataCategory is one kind of activity lbm records: one value of an
// event's event.category (DESIGN.md "Events"). It says, in words staff
// read in the monitoring notice, what is recorded as metadata and what
// counts as content, and how long each is kept by default.
//
// Content is "" exactly when the category has no content, and then
// ContentRetentionMonths is 0; otherwise both retention periods are at
// least one month.
type DataCategory struct {
	ID    string `json:"id" yaml:"id"` // the event.category value, e.g. "record_query"
	Title string `json:"title" yaml:"title"`
	// Collected says what is recorded as metadata, in a sentence or two.
	Collected string `json:"collected" yaml:"collected"`
	// Content says what counts as content, which is stored encrypted and
	// read only inside an authorisation that covers content.
	Content         string `json:"content" yaml:"content"`
	RetentionMonths int    `json:"retention_months" yaml:"retention_months"`
	// ContentRetentionMonths may be shorter than RetentionMonths (e-mail
	// content is kept for less time than who wrote to whom).
	ContentRetentionMonths int `json:"content_retention_months" yaml:"content_retention_months"`
}

// Categories is the list of data categories, in the order of its file.
type Categories []DataCategory

// Category returns the category with the given id, and whether there is
// one.
func (cs Categories) Category(id string) (DataCategory, bool) {
	i := slices.IndexFunc(cs, func(c DataCategory) bool { return c.ID == id })
	if i < 0 {
		return DataCategory{}, false
	}
	return cs[i], true
}

// A DetectionInput is a reference list that detection rules compare
// activity with, such as the records of VIPs or the family members staff
// declared in vetting. The monitoring notice names every list, so that no
// one's data is used in a way they were not told of.
type DetectionInput struct {
	ID          string `json:"id" yaml:"id"` // e.g. "VETTED_FAMILY"
	Title       string `json:"title" yaml:"title"`
	Explanation string `json:"explanation" yaml:"explanation"`
	// SpecialCategory is set when the list holds special-category or
	// otherwise sensitive personal data (LEGAL.md §5): rules using it need
	// a DPIA reference and the notice must name it.
	SpecialCategory bool   `json:"special_category" yaml:"special_category"`
	Source          string `json:"source" yaml:"source"` // where the list comes from, e.g. "vetting records"
}

// Detection is the list of detection inputs, in the order of its file.
type Detection []DetectionInput

// Input returns the detection input with the given id, and whether there
// is one.
func (d Detection) Input(id string) (DetectionInput, bool) {
	i := slices.IndexFunc(d, func(in DetectionInput) bool { return in.ID == id })
	if i < 0 {
		return DetectionInput{}, false
	}
	return d[i], true
}

var defaultDetection = sync.OnceValue(func() Detection {
	d, err := ParseDetection(readEmbedded(detectionFile))
	if err != nil {
		panic("policy: parsing the embedded " + detectionFile + ": " + err.Error())
	}
	return d
})

func readEmbedded(name string) []byte {
	b, err := embedded.ReadFile("catalogue/" + name)
	if err != nil {
		panic("policy: reading the embedded " + name + ": " + err.Error())
	}
	return b
}

// DefaultCategories returns the data categories embedded in the binary
// (catalogue/categories.yaml): Default().Categories. They are in force
// only until administrators approve a catalogue version; what reads the
// schedule in force reads the catalogue in force instead. Like [Default],
// it panics only on a build that skipped the tests, and each call returns
// a fresh slice.
func DefaultCategories() Categories {
	return slices.Clone(defaultCatalogue().Categories)
}

// DefaultDetection returns the detection inputs embedded in the binary
// (catalogue/detection.yaml). Like [Default], it panics only on a build
// that skipped the tests, and each call returns a fresh slice.
func DefaultDetection() Detection {
	return slices.Clone(defaultDetection())
}

const (
	categoriesFile = "categories.yaml"
	detectionFile  = "detection.yaml"

	maxCollected = 500
	maxSource    = 200
	// MaxMonths bounds a retention period: a guard against a typo such as
	// 120 for 12, not a legal limit. Longer retention is for legal holds,
	// which are not part of the schedule.
	MaxMonths = 240
)

// Category ids are event.category values, which are lower case (ECS's,
// and lbm's own such as record_query).
var categoryIDPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// A canonical month count: decimal, no sign, no leading zeros, so that
// yaml.v3's other spellings of an integer (0x0C, 0o14, +12, 1_2) are
// refused and the file reads one way.
var monthsPattern = regexp.MustCompile(`^(0|[1-9][0-9]{0,3})$`)

// ParseCategories parses categories.yaml, a YAML mapping with the one key
// categories whose value is a list of items:
//
//	categories:
//	  - id: email
//	    title: E-mail
//	    collected: >-
//	      The sender and recipients of each message, when, and its size.
//	    content: The subject line, the body and any attachments.
//	    retention_months: 12
//	    content_retention_months: 6
//
// Every key is required. Ids match [a-z][a-z0-9_]{0,63} (they are
// event.category values) and are unique. Text follows the rules of
// [ParseCatalogue], with collected and content at most 500 bytes, except
// that content may be "" (written out, not left empty) for a category
// that has no content. retention_months is a whole number of months from 1
// to [MaxMonths]; content_retention_months is 0 when content is "" and
// from 1 to [MaxMonths] otherwise. File bounds, and the refusal of
// unknown keys, anchors, aliases and merge keys, are those of
// [ParseCatalogue].
//
// Every error for malformed input is a *[ParseError] with File
// "categories.yaml".
func ParseCategories(data []byte) (Categories, error) {
	return parseList(data, categorySchema)
}

// ParseDetection parses detection.yaml, a YAML mapping with the one key
// detection whose value is a list of items:
//
//	detection:
//	  - id: VETTED_FAMILY
//	    title: Family and associates declared in vetting
//	    explanation: >-
//	      The family members each member of staff declared in vetting, so
//	      that checks can spot searches for records about them.
//	    special_category: true
//	    source: vetting records
//
// Every key is required, special_category too: a list of sensitive data
// must not pass as ordinary because its flag was forgotten. Ids, text and
// file bounds follow the rules of [ParseCatalogue], with source at most
// 200 bytes.
//
// Every error for malformed input is a *[ParseError] with File
// "detection.yaml".
func ParseDetection(data []byte) (Detection, error) {
	return parseList(data, detectionSchema)
}

type (
	categoryItem struct {
		ID                     yaml.Node `yaml:"id"`
		Title                  yaml.Node `yaml:"title"`
		Collected              yaml.Node `yaml:"collected"`
		Content                yaml.Node `yaml:"content"`
		RetentionMonths        yaml.Node `yaml:"retention_months"`
		ContentRetentionMonths yaml.Node `yaml:"content_retention_months"`
	}
	detectionItem struct {
		ID              yaml.Node `yaml:"id"`
		Title           yaml.Node `yaml:"title"`
		Explanation     yaml.Node `yaml:"explanation"`
		SpecialCategory yaml.Node `yaml:"special_category"`
		Source          yaml.Node `yaml:"source"`
	}
	// yamlError tells the top-level document from an item by these
	// suffixes: Doc and Item.
	categoriesDoc struct {
		Items []categoryItem `yaml:"categories"`
	}
	detectionDoc struct {
		Items []detectionItem `yaml:"detection"`
	}
)

var categorySchema = schema[categoriesDoc, categoryItem, DataCategory]{
	file:  categoriesFile,
	key:   "categories",
	keys:  "id, title, collected, content, retention_months, content_retention_months",
	items: func(d *categoriesDoc) []categoryItem { return d.Items },
	convert: func(it *categoryItem, line int) (c DataCategory, err *ParseError) {
		c.ID, err = categoryIDField(&it.ID, line)
		if err == nil {
			c.Title, err = textField(&it.Title, line, "title", maxTitle)
		}
		if err == nil {
			c.Collected, err = textField(&it.Collected, line, "collected", maxCollected)
		}
		if err == nil {
			c.Content, err = contentField(&it.Content, line)
		}
		if err == nil {
			c.RetentionMonths, err = monthsField(&it.RetentionMonths, line, "retention_months", 1)
		}
		if err == nil {
			c.ContentRetentionMonths, err = monthsField(&it.ContentRetentionMonths, line, "content_retention_months", 0)
		}
		if err != nil {
			return c, err
		}
		// Content with no period would be kept for ever, or never, and a
		// period with no content promises something that is not there.
		switch {
		case c.Content == "" && c.ContentRetentionMonths != 0:
			return c, &ParseError{Line: it.ContentRetentionMonths.Line, Field: "content_retention_months", Msg: `want 0 when content is ""`}
		case c.Content != "" && c.ContentRetentionMonths == 0:
			return c, &ParseError{Line: it.ContentRetentionMonths.Line, Field: "content_retention_months", Msg: `want at least 1 when there is content (or content: "" when there is none)`}
		}
		return c, nil
	},
	id: func(c DataCategory) string { return c.ID },
}

var detectionSchema = schema[detectionDoc, detectionItem, DetectionInput]{
	file:  detectionFile,
	key:   "detection",
	keys:  "id, title, explanation, special_category, source",
	items: func(d *detectionDoc) []detectionItem { return d.Items },
	convert: func(it *detectionItem, line int) (in DetectionInput, err *ParseError) {
		in.ID, err = idField(&it.ID, line)
		if err == nil {
			in.Title, err = textField(&it.Title, line, "title", maxTitle)
		}
		if err == nil {
			in.Explanation, err = textField(&it.Explanation, line, "explanation", maxExplanation)
		}
		if err == nil {
			if it.SpecialCategory.Kind == 0 {
				err = &ParseError{Line: line, Field: "special_category", Msg: "missing (want true or false)"}
			} else {
				in.SpecialCategory, err = boolField(&it.SpecialCategory, "special_category")
			}
		}
		if err == nil {
			in.Source, err = textField(&it.Source, line, "source", maxSource)
		}
		return in, err
	},
	id: func(in DetectionInput) string { return in.ID },
}

// categoryIDField returns the category id in n, an item's id key.
func categoryIDField(n *yaml.Node, itemLine int) (string, *ParseError) {
	v, err := textField(n, itemLine, "id", 64)
	if err != nil {
		return "", err
	}
	if !categoryIDPattern.MatchString(v) {
		return "", &ParseError{Line: n.Line, Field: "id", Msg: fmt.Sprintf("%s is not a category id (want a-z, 0-9 and _, starting with a letter, at most 64 characters)", safetext.Quote(v))}
	}
	return v, nil
}

// contentField returns the value of the content key: text as textField
// reads it, or "" written out. An empty value (content:) is refused, so
// that "no content" is always said on purpose.
func contentField(n *yaml.Node, itemLine int) (string, *ParseError) {
	switch {
	case n.Kind == 0:
		return "", &ParseError{Line: itemLine, Field: "content", Msg: `missing (write content: "" when the category has no content)`}
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" && n.Value == "":
		return "", nil
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null":
		return "", &ParseError{Line: n.Line, Field: "content", Msg: `empty (write "" when the category has no content)`}
	}
	return textField(n, itemLine, "content", maxCollected)
}

// monthsField returns the required whole number of months in n, from
// least to MaxMonths.
func monthsField(n *yaml.Node, itemLine int, name string, least int) (int, *ParseError) {
	fail := func(line int, msg string) (int, *ParseError) {
		return 0, &ParseError{Line: line, Field: name, Msg: msg}
	}
	want := fmt.Sprintf("want a whole number of months from %d to %d", least, MaxMonths)
	if n.Kind == 0 {
		return fail(itemLine, "missing ("+want+")")
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || !monthsPattern.MatchString(n.Value) {
		return fail(n.Line, want)
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil || v < least || v > MaxMonths {
		return fail(n.Line, want)
	}
	return v, nil
}
