package consent

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRequirementJSON(t *testing.T) {
	for _, r := range []Requirement{
		{Level: 1, MinRank: "inspector", MaxDuration: 90 * 24 * time.Hour, ReviewInterval: 30 * 24 * time.Hour},
		{Level: 3, MinRank: "superintendent", Advisers: []string{"dpo", "ethics"}, MaxDuration: 90 * 24 * time.Hour,
			ReviewInterval: 7 * 24 * time.Hour, RIPARequired: true, Urgent: &UrgentRoute{MinRank: "inspector", MaxDuration: 72 * time.Hour}},
	} {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back Requirement
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(r, back); diff != "" {
			t.Errorf("round trip of %s (-want +got):\n%s", b, diff)
		}
	}
	b, _ := json.Marshal(Requirement{Level: 3, MinRank: "superintendent", MaxDuration: 90 * 24 * time.Hour, ReviewInterval: 168 * time.Hour,
		Urgent: &UrgentRoute{MinRank: "inspector", MaxDuration: 72 * time.Hour}})
	want := `{"level":3,"min_rank":"superintendent","advisers":[],"max_duration_hours":2160,"review_interval_hours":168,"ripa_required":false,"urgent":{"min_rank":"inspector","max_duration_hours":72}}`
	if string(b) != want {
		t.Errorf("JSON %s, want %s", b, want)
	}
}

func TestExplanationJSON(t *testing.T) {
	p := Default(ranks())
	_, ex, err := p.Derive(Facts{Mode: ModeReview, Subjects: 1, Collateral: CollateralLow, Investigation: Misconduct, Categories: []string{"email"}, Content: true, WindowDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(ex)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Requirement Requirement `json:"requirement"`
		Steps       []struct {
			Name    string `json:"name"`
			Matched bool   `json:"matched"`
			Changes []struct{ Field, From, To string }
		} `json:"steps"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Requirement.MinRank != ex.Result.MinRank || got.Text != ex.String() || len(got.Steps) != len(ex.Steps) {
		t.Fatalf("round trip lost the derivation: %s", b)
	}
	if got.Steps[0].Name != "base" || !got.Steps[0].Matched || len(got.Steps[0].Changes) == 0 {
		t.Errorf("base step = %+v", got.Steps[0])
	}
}
