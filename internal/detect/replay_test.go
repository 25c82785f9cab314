package detect

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/lbm-project/lbm/internal/event"
)

const replayEvents = `{"@timestamp":"2026-11-02T08:00:00Z","event.category":"record_query","event.action":"a","user.id":"u1","record.id":"R1"}

{"@timestamp":"2026-11-02T08:01:00Z","event.category":"web","event.action":"browse","user.id":"u1"}
{"@timestamp":"2026-11-02T08:02:00Z","event.category":"record_query","event.action":"a","user.id":"u1","record.id":"R2"}
{"@timestamp":"2026-11-02T08:03:00Z","event.category":"record_query","event.action":"a","user.id":"u1","record.id":"R3"}
`

func TestReplay(t *testing.T) {
	e := engine(t, file(rule("d", distRule), rule("never", `when: event.action == "x"`), rule("err", `when: record.id == "R9"`)), nil, nil)
	rep, err := Replay(e, strings.NewReader(replayEvents), "ev.ndjson", "test")
	if err != nil {
		t.Fatalf("Replay = %v", err)
	}
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	want := `line 5: d (high) for u1: 3 distinct record.id by user.id within 10m (over 2)
    at 2026-11-02T08:03:00Z; events on lines 1, 4, 5

ev.ndjson: 4 events, 0 skipped as confidential; 1 alert
RULE   SEVERITY  FIRED    NOTES
d      high      1 time
never  high      0 times
err    high      0 times  1 evaluation failed (first on line 3: when: no such key: id)
`
	if got := text.String(); got != want {
		t.Errorf("WriteText =\n%s\nwant\n%s", got, want)
	}

	var js strings.Builder
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Events int `json:"events"`
		Alerts []struct {
			Rule  string `json:"rule"`
			Key   string `json:"key"`
			Lines []int  `json:"lines"`
		} `json:"alerts"`
		Rules []struct {
			ID             string `json:"id"`
			Fired          int    `json:"fired"`
			Errors         int    `json:"errors"`
			FirstErrorLine int    `json:"first_error_line"`
		} `json:"rules"`
	}
	if err := json.Unmarshal([]byte(js.String()), &out); err != nil {
		t.Fatalf("WriteJSON wrote %s: %v", js.String(), err)
	}
	if out.Events != 4 || len(out.Alerts) != 1 || out.Alerts[0].Key != "u1" || len(out.Alerts[0].Lines) != 3 ||
		len(out.Rules) != 3 || out.Rules[0].Fired != 1 || out.Rules[2].Errors != 1 || out.Rules[2].FirstErrorLine != 3 {
		t.Errorf("WriteJSON = %s", js.String())
	}
}

func TestReplayBad(t *testing.T) {
	for _, tc := range []struct {
		name, events, want string
		outOfOrder         bool
	}{
		{"not JSON", "{\"@timestamp\":\"2026-11-02T08:00:00Z\"}\n\nnot json\n", "ev.ndjson: line 1: event.category: required", false},
		{"bad time", replayEvents + `{"@timestamp":"yesterday","event.category":"web","event.action":"a","user.id":"u1"}` + "\n", "ev.ndjson: line 6: @timestamp: not RFC 3339", false},
		{"other source", `{"@timestamp":"2026-11-02T08:00:00Z","event.category":"web","event.action":"a","user.id":"u1","source.id":"pnc"}`, "ev.ndjson: line 1: source.id: is set by the server", false},
		{"out of order", replayEvents + `{"@timestamp":"2026-11-02T07:00:00Z","event.category":"web","event.action":"a","user.id":"u1"}`, "ev.ndjson: line 6: event earlier than one already observed: 2026-11-02T07:00:00Z is before 2026-11-02T08:03:00Z (sort the events by @timestamp)", true},
		{"too long", strings.Repeat(" ", event.MaxLineBytes+3), "ev.ndjson: line 1: longer than 1048576 bytes", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := engine(t, file(rule("d", distRule)), nil, nil)
			_, err := Replay(e, strings.NewReader(tc.events), "ev.ndjson", "test")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Replay = %v, want %q", err, tc.want)
			}
			if errors.Is(err, ErrOutOfOrder) != tc.outOfOrder {
				t.Errorf("Replay = %v: out of order %t, want %t", err, !tc.outOfOrder, tc.outOfOrder)
			}
			var pe *event.ParseError
			if !tc.outOfOrder && !errors.As(err, &pe) {
				t.Errorf("Replay = %v, want an *event.ParseError", err)
			}
		})
	}
}
