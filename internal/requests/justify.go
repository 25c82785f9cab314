package requests

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"unicode/utf8"
)

// The justification rule (LEGAL.md §3: "a reason of "." is no reason").
// Every free-text justification — the necessity, each criterion answer,
// the collateral and confidential explanations, the reason for urgency,
// and an authoriser's reasons and views — must be at least MinChars
// characters and MinWords words once normalised, and must not be the same
// as, or MaxSimilarity or more similar to, any other justification it is
// compared with.
const (
	MinChars      = 40  // runes of the normalised text
	MinWords      = 8   // whitespace-separated words
	MaxSimilarity = 0.9 // Similarity at or above which two texts count as copies
)

// Normalize returns s lower-cased, with every run of Unicode white space
// replaced by one space and none at either end. Justifications are
// measured and compared in this form, so that changing case or spacing
// does not make a copy new.
func Normalize(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// Similarity returns the Jaccard similarity of the character trigrams of
// a and b: |T(a) ∩ T(b)| / |T(a) ∪ T(b)|, from 0 (nothing in common) to 1.
//
// T(s) is the set of every sequence of three consecutive runes (not
// bytes) of Normalize(s), spaces included. A normalised text of one or two
// runes has the one "trigram" that is the whole text; the empty text has
// none. Two texts with no trigrams are identical (1); one with none and
// one with some have nothing in common (0).
//
// Similarity is symmetric; it costs time and memory linear in the
// lengths.
func Similarity(a, b string) float64 {
	return measure(a).similarity(measure(b))
}

// measured is a text in the form justifications are compared in: its
// normal form and its trigrams, as sorted unique 64-bit hashes so that
// comparing two texts is one merge, computed once however many texts it
// is compared with (a requester's year of requests means thousands).
type measured struct {
	norm string
	tri  []uint64
}

func measure(s string) measured {
	m := measured{norm: Normalize(s)}
	rs := []rune(m.norm)
	hash := func(r []rune) uint64 {
		h := fnv.New64a()
		h.Write([]byte(string(r)))
		return h.Sum64()
	}
	if len(rs) > 0 && len(rs) < 3 {
		m.tri = append(m.tri, hash(rs))
	}
	for i := 0; i+3 <= len(rs); i++ {
		m.tri = append(m.tri, hash(rs[i:i+3]))
	}
	slices.Sort(m.tri)
	m.tri = slices.Compact(m.tri)
	return m
}

func (a measured) similarity(b measured) float64 {
	if len(a.tri) == 0 && len(b.tri) == 0 {
		return 1
	}
	common := 0
	for i, j := 0, 0; i < len(a.tri) && j < len(b.tri); {
		switch {
		case a.tri[i] < b.tri[j]:
			i++
		case a.tri[i] > b.tri[j]:
			j++
		default:
			common++
			i++
			j++
		}
	}
	return float64(common) / float64(len(a.tri)+len(b.tri)-common)
}

// A text is one justification and the name to give it in messages.
type text struct {
	field string // e.g. "criteria.LESS_INTRUSIVE"
	value string
}

// CheckJustification applies the justification rule's substance test to
// one text written elsewhere (a reviewer's reason for a query): nil, or a
// FieldError naming field.
func CheckJustification(field, s string) error {
	if msg := checkSubstance(s); msg != "" {
		return FieldErrors{{Field: field, Msg: msg}}
	}
	return nil
}

// checkSubstance returns why s is too thin to be a justification, or "".
func checkSubstance(s string) string {
	n := Normalize(s)
	switch {
	case n == "":
		return "required: say why, in your own words"
	case utf8.RuneCountInString(n) < MinChars || len(strings.Fields(n)) < MinWords:
		return fmt.Sprintf("too short to be a reason: write at least %d characters and %d words that apply to this request", MinChars, MinWords)
	}
	return ""
}

// checkTexts applies the justification rule to each of texts, comparing
// each with the texts before it and with others (named texts from
// elsewhere, such as the requester's earlier requests). Empty texts are
// reported only when required; a text that fails is not compared.
func checkTexts(texts, others []text) FieldErrors {
	var errs FieldErrors
	ms := make([]measured, len(texts))
	for i, t := range texts {
		ms[i] = measure(t.value)
	}
	// Others are measured once, and only if some text needs comparing.
	var om []measured
	for i, t := range texts {
		if msg := checkSubstance(t.value); msg != "" {
			errs = append(errs, FieldError{Field: t.field, Msg: msg})
			continue
		}
		if om == nil {
			om = make([]measured, len(others))
			for j, o := range others {
				om[j] = measure(o.value)
			}
		}
		if msg := copied(ms[i], texts[:i], ms[:i], others, om); msg != "" {
			errs = append(errs, FieldError{Field: t.field, Msg: msg})
		}
	}
	return errs
}

// copied returns why s is a copy of one of the earlier texts or others
// (em and om are their measures), or "".
func copied(s measured, earlier []text, em []measured, others []text, om []measured) string {
	for _, list := range []struct {
		texts []text
		ms    []measured
	}{{earlier, em}, {others, om}} {
		for k, o := range list.ms {
			field := list.texts[k].field
			switch {
			case o.norm == "":
				continue
			case o.norm == s.norm:
				return fmt.Sprintf("the same as %s: answer this question on its own terms", field)
			}
			if sim := s.similarity(o); sim >= MaxSimilarity {
				return fmt.Sprintf("nearly the same as %s (%.0f%% similar): answer this question on its own terms", field, 100*sim)
			}
		}
	}
	return ""
}
