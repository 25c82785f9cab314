package requests

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/consent"
	"github.com/lbm-project/lbm/internal/policy"
)

// A FieldError is one problem with one field of a request: the field's
// JSON path ("criteria.LESS_INTRUSIVE", "subjects[1]") and what is wrong,
// in words the requester can act on.
type FieldError struct {
	Field string `json:"field"`
	Msg   string `json:"message"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Msg }

// FieldErrors is every problem [Validate] found, in field order. It is
// never empty when returned as an error.
type FieldErrors []FieldError

func (es FieldErrors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// NoticeCriterion is the proportionality criterion the subjects' notice
// record answers (LEGAL.md §3: were they told in advance?).
const NoticeCriterion = "NOTICE"

// Warrant is the LawfulBasis of live monitoring done under a warrant
// rather than a purpose of SI 2018/356.
const Warrant = "warrant"

// ValidationInput is what [Validate] checks a request against.
type ValidationInput struct {
	Catalogue  policy.Catalogue
	Categories policy.Categories
	// PersonExists reports whether a person id is in the directory. Nil
	// means no one exists, so that a forgotten lookup fails closed.
	PersonExists func(id string) bool
	// RestrictedBody is set when the organisation is one of the bodies a
	// restricted purpose (NATIONAL_SECURITY: IPA 2016 s.18(1)) names.
	RestrictedBody bool
	// NoticeRecord is what the subjects' acknowledgement records say; a
	// request that carries anything else is refused.
	NoticeRecord string
	// Recent are the requester's recent requests: a justification copied
	// from one of them is refused. Requests by anyone else, and r itself
	// (by ID), are ignored.
	Recent []Request
	Now    time.Time
}

// Validate checks what the requester wrote in r, and returns nil or
// FieldErrors listing every problem:
//
//   - requester (in the directory), subjects (unique, in the directory, not the requester),
//     investigators (at least one, unique, in the directory, not a
//     subject), categories (known, unique), sources (unique) and mode;
//   - purpose in the catalogue; a monitor-only purpose never with mode
//     record; a restricted purpose only for a restricted body;
//   - review: a window with From before To and To not after in.Now, and no
//     lawful basis; live modes: no window, and a lawful basis that is a
//     usable purpose or Warrant with a warrant_reference;
//   - investigation criminal or misconduct; criminal live monitoring needs
//     a ripa_reference, misconduct-only takes none (RIPA does not apply);
//   - operation name and reference; a DPIA reference for live modes and
//     for any content;
//   - an answer to every catalogue criterion, and to no other (NOTICE may
//     be left to notice_record when that is not empty); notice_record
//     equal to in.NoticeRecord;
//   - collateral level and explanation; confidential kinds known and
//     unique, with an explanation when any; the reason for urgency;
//   - the justification rule (see [MinChars]) on necessity, each criterion
//     answer, collateral.explanation, confidential.explanation and
//     urgent.why, against each other and the same requester's recent
//     requests.
//
// Validate does not look at the lifecycle fields.
func Validate(r Request, in ValidationInput) error {
	var errs FieldErrors
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	exists := func(id string) bool { return in.PersonExists != nil && in.PersonExists(id) }

	switch {
	case r.Requester == "":
		add("requester", "required")
	case !exists(r.Requester):
		add("requester", "%q is not in the directory", r.Requester)
	}
	people := func(field string, ids []string, need bool) {
		if len(ids) == 0 && need {
			add(field, "required: name at least one person")
		}
		for i, id := range ids {
			f := fmt.Sprintf("%s[%d]", field, i)
			switch {
			case id == "":
				add(f, "empty person id")
			case slices.Index(ids, id) < i:
				add(f, "%q is listed twice", id)
			case !exists(id):
				add(f, "%q is not in the directory", id)
			}
		}
	}
	people("subjects", r.Subjects, true)
	people("investigators", r.Investigators, true)
	if r.Requester != "" && slices.Contains(r.Subjects, r.Requester) {
		add("subjects", "the requester cannot ask to monitor themselves")
	}
	for i, id := range r.Investigators {
		if slices.Contains(r.Subjects, id) {
			add(fmt.Sprintf("investigators[%d]", i), "%q is a subject of the request", id)
		}
	}

	if len(r.Categories) == 0 {
		add("categories", "required: name at least one data category")
	}
	for i, c := range r.Categories {
		f := fmt.Sprintf("categories[%d].category", i)
		switch {
		case slices.IndexFunc(r.Categories, func(o CategoryScope) bool { return o.Category == c.Category }) < i:
			add(f, "%q is listed twice", c.Category)
		default:
			if _, ok := in.Categories.Category(c.Category); !ok {
				add(f, "unknown data category %q", c.Category)
			}
		}
	}
	for i, s := range r.Sources {
		f := fmt.Sprintf("sources[%d]", i)
		switch {
		case s == "":
			add(f, "empty source id")
		case slices.Index(r.Sources, s) < i:
			add(f, "%q is listed twice", s)
		}
	}

	switch r.Mode {
	case consent.ModeReview, consent.ModeMonitor, consent.ModeRecord:
	case "":
		add("mode", "required: review, monitor or record")
	default:
		add("mode", "unknown mode %q (want review, monitor or record)", r.Mode)
	}

	// A purpose (or a lawful basis naming one) must exist, may be
	// monitor-only, and may be reserved to some bodies.
	checkPurpose := func(field, id string) {
		p, ok := in.Catalogue.Purpose(id)
		switch {
		case !ok:
			add(field, "unknown purpose %q", id)
		case p.MonitorOnly && r.Mode == consent.ModeRecord:
			add(field, "%s allows monitoring only, never recording", id)
		case p.RestrictedTo != "" && !in.RestrictedBody:
			add(field, "%s may be relied on only by %s", id, p.RestrictedTo)
		}
	}
	if r.Purpose == "" {
		add("purpose", "required: a purpose id from the catalogue")
	} else {
		checkPurpose("purpose", r.Purpose)
	}

	switch {
	case r.Mode == consent.ModeReview:
		switch w := r.Window; {
		case w == nil || w.From.IsZero() || w.To.IsZero():
			add("window", "required for a review: from and to")
		case !w.From.Before(w.To):
			add("window", "from must be before to")
		case w.To.After(in.Now):
			add("window.to", "a review reads what is already held: to must not be in the future")
		}
		if r.LawfulBasis != "" {
			add("lawful_basis", "only for live monitoring or recording")
		}
		if r.WarrantReference != "" {
			add("warrant_reference", "only for live monitoring or recording under a warrant")
		}
	case r.Live():
		if r.Window != nil {
			add("window", "not for live modes: they run from the decision until expiry")
		}
		switch r.LawfulBasis {
		case "":
			add("lawful_basis", "required for live monitoring of communications: a purpose id or %q", Warrant)
		case Warrant:
			if strings.TrimSpace(r.WarrantReference) == "" {
				add("warrant_reference", "required when the lawful basis is a warrant")
			}
		default:
			checkPurpose("lawful_basis", r.LawfulBasis)
		}
		if r.LawfulBasis != Warrant && r.WarrantReference != "" {
			add("warrant_reference", "only when the lawful basis is a warrant")
		}
	}

	switch r.Investigation {
	case consent.Criminal:
		if r.Live() && strings.TrimSpace(r.RIPAReference) == "" {
			add("ripa_reference", "required for covert live monitoring in a criminal investigation (RIPA 2000 Part II)")
		}
	case consent.Misconduct:
		if r.RIPAReference != "" {
			add("ripa_reference", "a misconduct-only investigation takes the Art 8 route: RIPA does not apply")
		}
	case "":
		add("investigation", "required: criminal or misconduct")
	default:
		add("investigation", "unknown investigation type %q (want criminal or misconduct)", r.Investigation)
	}

	if strings.TrimSpace(r.Operation.Name) == "" {
		add("operation.name", "required")
	}
	if strings.TrimSpace(r.Operation.Reference) == "" {
		add("operation.reference", "required")
	}
	content := slices.ContainsFunc(r.Categories, func(c CategoryScope) bool { return c.Content })
	if strings.TrimSpace(r.DPIAReference) == "" && (r.Live() || content) {
		add("dpia_reference", "required for live monitoring and for content")
	}

	if r.NoticeRecord != in.NoticeRecord {
		add("notice_record", "is filled from the subjects' acknowledgements and cannot be changed; add to it in criteria.NOTICE")
	}
	for id := range r.Criteria {
		if _, ok := in.Catalogue.Criterion(id); !ok {
			add("criteria."+id, "unknown criterion")
		}
	}

	switch r.Collateral.Level {
	case consent.CollateralLow, consent.CollateralMedium, consent.CollateralHigh:
	case "":
		add("collateral.level", "required: low, medium or high")
	default:
		add("collateral.level", "unknown level %q (want low, medium or high)", r.Collateral.Level)
	}
	for i, k := range r.Confidential.Kinds {
		f := fmt.Sprintf("confidential.kinds[%d]", i)
		switch {
		case !slices.Contains(confidentialKinds, k):
			add(f, "unknown kind %q (want one of %s)", k, strings.Join(confidentialKinds, ", "))
		case slices.Index(r.Confidential.Kinds, k) < i:
			add(f, "%q is listed twice", k)
		}
	}

	// The justifications, in form order.
	texts := []text{{"necessity", r.Necessity}}
	for _, c := range in.Catalogue.Criteria {
		v := r.Criteria[c.ID]
		if c.ID == NoticeCriterion && Normalize(v) == "" && Normalize(r.NoticeRecord) != "" {
			continue // the acknowledgement records answer it
		}
		texts = append(texts, text{"criteria." + c.ID, v})
	}
	texts = append(texts, text{"collateral.explanation", r.Collateral.Explanation})
	if len(r.Confidential.Kinds) > 0 || r.Confidential.Explanation != "" {
		texts = append(texts, text{"confidential.explanation", r.Confidential.Explanation})
	}
	if r.Urgent.Urgent || r.Urgent.Why != "" {
		texts = append(texts, text{"urgent.why", r.Urgent.Why})
	}
	var others []text
	for _, o := range in.Recent {
		if o.Requester != r.Requester || (o.ID != "" && o.ID == r.ID) {
			continue
		}
		name := o.Reference
		if name == "" {
			name = o.ID
		}
		for _, t := range justifications(o) {
			others = append(others, text{fmt.Sprintf("%s in your request %s", t.field, name), t.value})
		}
	}
	errs = append(errs, checkTexts(texts, others)...)

	if len(errs) == 0 {
		return nil
	}
	return errs
}

var confidentialKinds = []string{consent.LegalPrivilege, consent.Health, consent.Journalistic, consent.Union, consent.Whistleblowing}

// justifications returns every non-empty justification the requester
// wrote in r.
func justifications(r Request) []text {
	ts := []text{{"necessity", r.Necessity}}
	ids := make([]string, 0, len(r.Criteria))
	for id := range r.Criteria {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		ts = append(ts, text{"criteria." + id, r.Criteria[id]})
	}
	ts = append(ts,
		text{"collateral.explanation", r.Collateral.Explanation},
		text{"confidential.explanation", r.Confidential.Explanation},
		text{"urgent.why", r.Urgent.Why})
	return slices.DeleteFunc(ts, func(t text) bool { return Normalize(t.value) == "" })
}
