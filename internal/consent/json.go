package consent

import (
	"encoding/json"
	"time"
)

// requirementJSON is a Requirement as the API and the stored request write
// it: snake_case names, and durations in whole hours, the unit the policy
// counts them in.
type requirementJSON struct {
	Level               int         `json:"level"`
	MinRank             string      `json:"min_rank"`
	Advisers            []string    `json:"advisers"`
	MaxDurationHours    int64       `json:"max_duration_hours"`
	ReviewIntervalHours int64       `json:"review_interval_hours"`
	RIPARequired        bool        `json:"ripa_required"`
	Urgent              *urgentJSON `json:"urgent,omitempty"`
}

type urgentJSON struct {
	MinRank          string `json:"min_rank"`
	MaxDurationHours int64  `json:"max_duration_hours"`
}

// MarshalJSON writes r with snake_case names and durations in hours.
func (r Requirement) MarshalJSON() ([]byte, error) {
	out := requirementJSON{Level: r.Level, MinRank: r.MinRank, Advisers: r.Advisers,
		MaxDurationHours: int64(r.MaxDuration / time.Hour), ReviewIntervalHours: int64(r.ReviewInterval / time.Hour), RIPARequired: r.RIPARequired}
	if out.Advisers == nil {
		out.Advisers = []string{}
	}
	if r.Urgent != nil {
		out.Urgent = &urgentJSON{MinRank: r.Urgent.MinRank, MaxDurationHours: int64(r.Urgent.MaxDuration / time.Hour)}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *Requirement) UnmarshalJSON(b []byte) error {
	var in requirementJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*r = Requirement{Level: in.Level, MinRank: in.MinRank, Advisers: in.Advisers,
		MaxDuration: time.Duration(in.MaxDurationHours) * time.Hour, ReviewInterval: time.Duration(in.ReviewIntervalHours) * time.Hour,
		RIPARequired: in.RIPARequired}
	if len(r.Advisers) == 0 {
		r.Advisers = nil
	}
	if in.Urgent != nil {
		r.Urgent = &UrgentRoute{MinRank: in.Urgent.MinRank, MaxDuration: time.Duration(in.Urgent.MaxDurationHours) * time.Hour}
	}
	return nil
}

// explanationJSON is an Explanation as the API writes it: the requirement,
// each step, and the text people read.
type explanationJSON struct {
	Requirement Requirement `json:"requirement"`
	Steps       []stepJSON  `json:"steps"`
	Text        string      `json:"text"`
}

type stepJSON struct {
	Name        string       `json:"name"`
	Line        int          `json:"line,omitempty"`
	Description string       `json:"description,omitempty"`
	When        string       `json:"when,omitempty"`
	Matched     bool         `json:"matched"`
	Changes     []changeJSON `json:"changes"`
	Note        string       `json:"note,omitempty"`
}

type changeJSON struct {
	Field string `json:"field"`
	From  string `json:"from,omitempty"`
	To    string `json:"to"`
}

// MarshalJSON writes e as docs/contract.md's EXPLANATION.
func (e Explanation) MarshalJSON() ([]byte, error) {
	out := explanationJSON{Requirement: e.Result, Steps: []stepJSON{}, Text: e.String()}
	for _, s := range e.Steps {
		js := stepJSON{Name: s.Name, Line: s.Line, Description: s.Description, When: s.When, Matched: s.Matched,
			Changes: []changeJSON{}, Note: s.Note}
		for _, c := range s.Changes {
			js.Changes = append(js.Changes, changeJSON(c))
		}
		out.Steps = append(out.Steps, js)
	}
	return json.Marshal(out)
}
