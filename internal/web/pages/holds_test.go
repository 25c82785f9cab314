package pages

import (
	"net/http"
	"strings"
	"testing"
)

func TestHoldPages(t *testing.T) {
	inForce := HoldRow{ID: "hold-1", Person: "Sam Staff (staff1)", Reason: []string{"Tribunal claim ET/1234/26", hostile},
		Placed: "2 March 2026 09:00 UTC by Dee Officer (dpo1)"}
	released := HoldRow{ID: "hold-0", Person: "Kim Hale (kim1)", Reason: []string{"A complaint"}, Placed: "1 March 2026 09:00 UTC by Dee Officer (dpo1)",
		Released: "2 March 2026 10:00 UTC by Dee Officer (dpo1)", Note: []string{hostile, "settled"}}
	managed := inForce
	managed.Action, managed.NoteValue, managed.NoteError = "/holds/hold-1/release", hostile, "at least 10 characters: say why"
	dpo := Holds{Layout: withErrors(staff("Legal holds"), FieldError{"note-hold-1", "at least 10 characters: say why"}),
		Place: []Field{{Kind: "text", ID: "person", Label: "Person’s id", Value: hostile},
			{Kind: "textarea", ID: "reason", Label: "Why", Rows: 5, Error: "is required"}},
		InForce: []HoldRow{managed}, Released: []HoldRow{released}}
	oversight := Holds{Layout: staff("Legal holds"), InForce: []HoldRow{inForce}, Released: []HoldRow{released}}
	empty := Holds{Layout: staff("Legal holds")}
	for _, tt := range []struct {
		name    string
		page    Page
		status  int
		want    []string
		notWant []string
	}{
		{"dpo", dpo, http.StatusBadRequest, []string{`action="/holds"`, `name="person"`, `name="reason"`, `id="reason-error"`,
			`action="/holds/hold-1/release"`, `id="note-hold-1"`, `name="note"`, `id="note-hold-1-error"`, `href="#note-hold-1"`,
			`id="hold-hold-1"`, `id="hold-hold-0"`, "Tribunal claim ET/1234/26", "settled"}, []string{hostile}},
		{"oversight", oversight, http.StatusOK, []string{`id="hold-hold-1"`, "Sam Staff (staff1)", "Released holds"},
			[]string{hostile, `action="/holds`, `name="note"`}},
		{"empty", empty, http.StatusOK, []string{"No hold is in force.", "No hold has been released."}, []string{"<table", "<form method=\"post\" action=\"/holds"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := render(t, tt.page, tt.status)
			checkHTML(t, out)
			checkCSP(t, out)
			checkHeadings(t, out)
			checkTables(t, out)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("lacks %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("shows %q", w)
				}
			}
		})
	}
}
