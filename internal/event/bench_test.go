package event

import (
	"testing"
)

// benchEvent is a typical e-mail event of about 512 bytes.
var benchEvent = []byte(`{"@timestamp":"2026-11-02T08:03:11.123Z",` +
	`"event":{"category":"email","action":"send","outcome":"success","id":"msg-000123456"},` +
	`"user":{"id":"u00042","name":"Jo Bloggs"},"related":{"user":["u00043","u00044","u00045"]},` +
	`"host":{"name":"mail-gw-01"},"labels":{"attachments":2,"size_kb":48.5,"external":false},` +
	`"content":{"subject":"Re: case 2026/1187 - witness statement",` +
	`"body":"Dear Sergeant,\r\n\tPlease find the revised statement attached. The \"second\" witness` +
	` has not yet been interviewed; I will update the record once she is available.\nRegards, J."}}`)

func BenchmarkParse(b *testing.B) {
	if n := len(benchEvent); n < 480 || n > 560 {
		b.Fatalf("benchmark event has %d bytes, want about 512", n)
	}
	b.SetBytes(int64(len(benchEvent)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(benchEvent, "mail-gw-01"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLeafOf(b *testing.B) {
	e := testEvent(b, benchEvent, "mail-gw-01")
	b.ReportAllocs()
	for b.Loop() {
		LeafOf(e)
	}
}
