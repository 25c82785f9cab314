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
