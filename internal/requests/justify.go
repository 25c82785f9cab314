package requests

import (
	"fmt"
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
	ta, tb := trigrams(a), trigrams(b)
	if len(ta) == 0 && len(tb) == 0 {
		return 1
	}
	common := 0
	for t := range ta {
		if tb[t] {
			common++
		}
	}
	return float64(common) / float64(len(ta)+len(tb)-common)
}

func trigrams(s string) map[string]bool {
	rs := []rune(Normalize(s))
	set := make(map[string]bool)
	if len(rs) > 0 && len(rs) < 3 {
		set[string(rs)] = true
	}
	for i := 0; i+3 <= len(rs); i++ {
		set[string(rs[i:i+3])] = true
	}
	return set
}

// A text is one justification and the name to give it in messages.
type text struct {
	field string // e.g. "criteria.LESS_INTRUSIVE"
	value string
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
	for i, t := range texts {
		if msg := checkSubstance(t.value); msg != "" {
			errs = append(errs, FieldError{Field: t.field, Msg: msg})
			continue
		}
		if msg := copied(t.value, texts[:i], others); msg != "" {
			errs = append(errs, FieldError{Field: t.field, Msg: msg})
		}
	}
	return errs
}

// copied returns why s is a copy of one of the earlier texts or others,
// or "".
func copied(s string, earlier, others []text) string {
	n := Normalize(s)
	for _, list := range [][]text{earlier, others} {
		for _, o := range list {
			if Normalize(o.value) == "" {
				continue
			}
			if Normalize(o.value) == n {
				return fmt.Sprintf("the same as %s: answer this question on its own terms", o.field)
			}
			if sim := Similarity(s, o.value); sim >= MaxSimilarity {
				return fmt.Sprintf("nearly the same as %s (%.0f%% similar): answer this question on its own terms", o.field, 100*sim)
			}
		}
	}
	return ""
}
