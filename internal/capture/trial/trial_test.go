package trial

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/capture"
	"github.com/lbm-project/lbm/internal/capture/mapping"
)

func TestRunShowsContentAndUnparsed(t *testing.T) {
	at := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	recs := []capture.Record{
		{Received: at, Fields: map[string]any{"log.syslog.appname": "sshd", "message": "Accepted password for jsmith from 10.0.0.1"}},
		{Received: at, Unparsed: "no PRI", Raw: []byte("hello")},
	}
	rep, err := Run(mapping.Builtin(capture.Syslog), "linux", recs, nil)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"record 1: stored\n", `  content.message = "Accepted password for jsmith from 10.0.0.1"  (content)`, `  user.id = "jsmith"` + "\n",
		"record 2: unparsed: no PRI\n", `  content.raw = "hello"  (content)`, "2 records: 1 mapped, 1 unparsed\n",
		"  @timestamp = 2026-11-28T09:00:00.000000000Z\n",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Records) != 2 || back.Records[1].Status != "unparsed" || back.Records[0].Event["event.action"] != `"sshd"` {
		t.Errorf("JSON %s: %v", js.String(), err)
	}
}
