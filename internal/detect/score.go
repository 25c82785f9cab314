package detect

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// A Label says that one person's activity over a span of time is
// misconduct that the named rules should catch: what `lbm simulate
// --labels` writes, one JSON object a line:
//
//	{"kind":"self-lookup","rules":["self-lookup"],"user":"u00012",
//	 "start":"2026-11-03T09:12:00Z","end":"2026-11-03T09:30:00Z"}
//
// Labels are kept apart from events: no rule ever sees them.
type Label struct {
	Kind  string    `json:"kind"`
	Rules []string  `json:"rules"`
	User  string    `json:"user"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// MaxLabels bounds the labels ParseLabels reads.
const MaxLabels = 1_000_000

// ParseLabels reads labels, one JSON object a line (blank lines
// skipped), from r, named file in messages. An unknown key, a label
// without a user or rules, or one that ends before it starts is a
// *ParseError naming the line.
func ParseLabels(r io.Reader, file string) ([]Label, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	var out []Label
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		fail := func(msg string) error { return &ParseError{File: file, Line: line, Msg: msg} }
		if len(out) == MaxLabels {
			return nil, fail(fmt.Sprintf("more than %d labels", MaxLabels))
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		var l Label
		if err := dec.Decode(&l); err != nil {
			return nil, fail("not a label: " + err.Error())
		}
		switch {
		case l.User == "":
			return nil, fail("user: missing")
		case len(l.Rules) == 0:
			return nil, fail("rules: missing")
		case l.Start.IsZero() || l.End.Before(l.Start):
			return nil, fail("start and end: want start no later than end")
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &ParseError{File: file, Msg: "a line longer than 64 KiB"}
		}
		return nil, err
	}
	return out, nil
}

// A Score is how well alerts match labels, per rule and in total.
//
// An alert matches a label when the label names the alert's rule, the
// label's user is the alert's Subject (the user.id of the event that
// fired it) or its Key (the value of the rule's by), and the alert's time
// is within the label's span widened by Slack on either side: a rule that
// counts events may fire on the last of a burst, and one that follows a
// sequence on its last step. The Key is for rules about the person an
// event concerns rather than the one who acted: oversight-repeated-refusals
// counts refusals by related.user, and whoever refused the third time
// fired it, so its label names the person refused about.
//
// A rule's precision is the share of its alerts that match a label; its
// recall the share of the labels naming it that one of its alerts
// matches. In total, precision is the share of all alerts that match a
// label, and recall the share of labels matched by an alert of any rule
// they name. A rule with no alerts has no precision, and one no label
// names no recall: both are then -1.
type Score struct {
	Slack time.Duration
	Rules []RuleScore
	Total RuleScore
}

// RuleScore is one rule's line of a Score (Rule "" for the total).
type RuleScore struct {
	Rule      string  `json:"rule"`
	Alerts    int     `json:"alerts"`
	Matched   int     `json:"matched"` // alerts that match a label
	Precision float64 `json:"precision"`
	Labels    int     `json:"labels"`
	Caught    int     `json:"caught"` // labels an alert matches
	Recall    float64 `json:"recall"`
}

// ScoreAlerts scores alerts against labels for the rules named in order
// (each rule's line appears even if it never fired).
func ScoreAlerts(alerts []Alert, labels []Label, rules []string, slack time.Duration) Score {
	s := Score{Slack: slack}
	idx := map[string]int{}
	for _, r := range rules {
		idx[r] = len(s.Rules)
		s.Rules = append(s.Rules, RuleScore{Rule: r})
	}
	line := func(rule string) *RuleScore {
		i, ok := idx[rule]
		if !ok {
			idx[rule] = len(s.Rules)
			s.Rules = append(s.Rules, RuleScore{Rule: rule})
			i = len(s.Rules) - 1
		}
		return &s.Rules[i]
	}
	// Labels by user, so that matching is not alerts × labels.
	byUser := map[string][]int{}
	for i, l := range labels {
		byUser[l.User] = append(byUser[l.User], i)
		for _, r := range l.Rules {
			line(r).Labels++
		}
	}
	caught := make([]map[string]bool, len(labels))
	for _, a := range alerts {
		rs := line(a.Rule)
		rs.Alerts++
		s.Total.Alerts++
		hit := false
		cands := byUser[a.Subject]
		if a.Key != a.Subject {
			cands = append(slices.Clip(cands), byUser[a.Key]...)
		}
		for _, i := range cands {
			l := labels[i]
			if !slices.Contains(l.Rules, a.Rule) || a.Time.Before(l.Start.Add(-slack)) || a.Time.After(l.End.Add(slack)) {
				continue
			}
			hit = true
			if caught[i] == nil {
				caught[i] = map[string]bool{}
			}
			caught[i][a.Rule] = true
		}
		if hit {
			rs.Matched++
			s.Total.Matched++
		}
	}
	s.Total.Labels = len(labels)
	for i, l := range labels {
		if len(caught[i]) > 0 {
			s.Total.Caught++
		}
		for _, r := range l.Rules {
			if caught[i][r] {
				line(r).Caught++
			}
		}
	}
	for i := range s.Rules {
		s.Rules[i].ratios()
	}
	s.Total.ratios()
	return s
}

func (r *RuleScore) ratios() {
	r.Precision, r.Recall = -1, -1
	if r.Alerts > 0 {
		r.Precision = float64(r.Matched) / float64(r.Alerts)
	}
	if r.Labels > 0 {
		r.Recall = float64(r.Caught) / float64(r.Labels)
	}
}
