package pages

import (
	"net/http"
	"strings"
	"testing"
)

func TestLogVerificationWitnesses(t *testing.T) {
	page := LogVerification{Layout: admin("Log verification"), Server: "https://lbm.example",
		Logs: []LogCheck{{Name: "activity", Origin: "lbm.local/activity", VerifierKey: "k", OK: true, Checked: "0", Current: "3"}},
		Witnesses: &WitnessSection{Quorum: "1", Count: "2", FailClosed: true, Rows: []WitnessRow{
			{Name: "w1", URL: "https://w1.example", Key: "w1.example+01+AQ", Log: "activity", Cosigned: "3", CosignedAt: "27 Nov 2026 09:30:00 UTC", Tried: "27 Nov 2026 09:30:00 UTC"},
			{Name: "w2", URL: "https://w2.example", Key: "w2.example+02+AQ", Log: "activity", Tried: "27 Nov 2026 09:30:01 UTC", Error: hostile},
		}}}
	out := render(t, page, http.StatusOK)
	checkHTML(t, out)
	checkCSP(t, out)
	checkHeadings(t, out)
	checkTables(t, out)
	for _, want := range []string{
		`<h2 class="govuk-heading-m" id="witnesses">Witnesses</h2>`,
		"with 1 of 2 cosignatures",
		"Until a checkpoint has them, it is not served",
		"size 3, 27 Nov 2026 09:30:00 UTC",
		"never",
		`<strong class="govuk-tag govuk-tag--red">Failed</strong>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the witnesses section lacks %q", want)
		}
	}
	if strings.Contains(out, hostile) {
		t.Error("a witness's error is not escaped")
	}
	page.Witnesses = nil
	if out := render(t, page, http.StatusOK); strings.Contains(out, `id="witnesses"`) {
		t.Error("with no witness configured the page has a witnesses section")
	}
}
