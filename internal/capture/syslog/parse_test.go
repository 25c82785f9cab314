package syslog

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/capture"
)

var received = time.Date(2026, 1, 1, 0, 30, 0, 0, time.UTC)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name     string
		frame    string
		fields   map[string]any
		time     time.Time
		unparsed string // a part of Unparsed; empty: parsed
	}{{
		name:  "rfc5424 with structured data and a BOM",
		frame: "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 42 ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\"][origin ip=\"192.0.2.1\"] \xEF\xBB\xBFAn application event log entry...",
		fields: map[string]any{
			FieldPriority: int64(165), FieldFacilityCode: int64(20), FieldFacilityName: "local4",
			FieldSeverityCode: int64(5), FieldSeverityName: "notice", FieldVersion: int64(1),
			FieldHostname: "mymachine.example.com", FieldAppname: "evntslog", FieldProcID: "42", FieldMsgID: "ID47",
			FieldSD + "exampleSDID@32473.iut": "3", FieldSD + "exampleSDID@32473.eventSource": "Application",
			FieldSD + "origin.ip": "192.0.2.1",
			FieldMessage:          "An application event log entry...", FieldFormat: RFC5424,
		},
		time: time.Date(2003, 10, 11, 22, 14, 15, 3e6, time.UTC),
	}, {
		name:  "rfc5424 with an offset, nil values and a multi-line message",
		frame: "<86>1 2026-01-01T01:02:03+02:00 - sshd - - - first\nsecond\n",
		fields: map[string]any{
			FieldPriority: int64(86), FieldFacilityCode: int64(10), FieldFacilityName: "authpriv",
			FieldSeverityCode: int64(6), FieldSeverityName: "info", FieldVersion: int64(1),
			FieldAppname: "sshd", FieldMessage: "first\nsecond", FieldFormat: RFC5424,
		},
		time: time.Date(2026, 1, 1, 1, 2, 3, 0, time.FixedZone("", 2*3600)),
	}, {
		name:  "rfc3164 BSD style",
		frame: "<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick on /dev/pts/8",
		fields: map[string]any{
			FieldPriority: int64(34), FieldFacilityCode: int64(4), FieldFacilityName: "auth",
			FieldSeverityCode: int64(2), FieldSeverityName: "crit", FieldHostname: "mymachine",
			FieldAppname: "su", FieldProcID: "230", FieldMessage: "'su root' failed for lonvick on /dev/pts/8", FieldFormat: RFC3164,
		},
		time: time.Date(2025, 10, 11, 22, 14, 15, 0, time.UTC),
	}, {
		name:  "rfc3164 stamped just before the new year is of the old one",
		frame: "<13>Dec 31 23:59:59 host app: late\r\n",
		fields: map[string]any{
			FieldPriority: int64(13), FieldFacilityCode: int64(1), FieldFacilityName: "user",
			FieldSeverityCode: int64(5), FieldSeverityName: "notice", FieldHostname: "host",
			FieldAppname: "app", FieldMessage: "late", FieldFormat: RFC3164,
		},
		time: time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC),
	}, {
		name:  "rfc3164 with an RFC 3339 timestamp keeps its year",
		frame: "<14>2024-01-02T03:04:05Z host app: rfc3339",
		fields: map[string]any{
			FieldPriority: int64(14), FieldFacilityCode: int64(1), FieldFacilityName: "user",
			FieldSeverityCode: int64(6), FieldSeverityName: "info", FieldHostname: "host",
			FieldAppname: "app", FieldMessage: "rfc3339", FieldFormat: RFC3164,
		},
		time: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
	}, {
		name:  "rfc3164 on 29 February",
		frame: "<13>Feb 29 01:02:03 host app: leap",
		fields: map[string]any{
			FieldPriority: int64(13), FieldFacilityCode: int64(1), FieldFacilityName: "user",
			FieldSeverityCode: int64(5), FieldSeverityName: "notice", FieldHostname: "host",
			FieldAppname: "app", FieldMessage: "leap", FieldFormat: RFC3164,
		},
		// Neither 2025, 2026 nor 2027 has a 29 February: no time.
	}, {
		name:     "garbage",
		frame:    "this is not syslog",
		fields:   map[string]any{},
		unparsed: "neither RFC 5424",
	}, {
		name:  "a priority and nothing else",
		frame: "<13>hello world",
		fields: map[string]any{
			FieldPriority: int64(13), FieldFacilityCode: int64(1), FieldFacilityName: "user",
			FieldSeverityCode: int64(5), FieldSeverityName: "notice",
		},
		unparsed: "neither RFC 5424",
	}, {
		name:  "rfc5424 with broken structured data keeps the header",
		frame: "<165>1 2003-10-11T22:14:15.003Z host app - - [bad sd",
		fields: map[string]any{
			FieldPriority: int64(165), FieldFacilityCode: int64(20), FieldFacilityName: "local4",
			FieldSeverityCode: int64(5), FieldSeverityName: "notice", FieldVersion: int64(1),
			FieldHostname: "host", FieldAppname: "app",
		},
		time:     time.Date(2003, 10, 11, 22, 14, 15, 3e6, time.UTC),
		unparsed: "structured data",
	}, {
		name:     "a priority out of range",
		frame:    "<192>1 2003-10-11T22:14:15.003Z host app - - - hi",
		fields:   map[string]any{},
		unparsed: "neither RFC 5424",
	}, {
		name:     "empty",
		frame:    "\n",
		fields:   map[string]any{},
		unparsed: "empty message",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := NewParser().Parse([]byte(tc.frame), received)
			if diff := cmp.Diff(tc.fields, got.Fields); diff != "" {
				t.Errorf("Parse(%q) fields (-want +got):\n%s", tc.frame, diff)
			}
			if !got.Time.Equal(tc.time) {
				t.Errorf("Parse(%q).Time = %v, want %v", tc.frame, got.Time, tc.time)
			}
			if !got.Received.Equal(received) {
				t.Errorf("Parse(%q).Received = %v, want %v", tc.frame, got.Received, received)
			}
			if tc.unparsed == "" {
				if got.Unparsed != "" || got.Raw != nil {
					t.Errorf("Parse(%q) = unparsed %q, want parsed", tc.frame, got.Unparsed)
				}
				return
			}
			if !strings.Contains(got.Unparsed, tc.unparsed) {
				t.Errorf("Parse(%q).Unparsed = %q, want it to say %q", tc.frame, got.Unparsed, tc.unparsed)
			}
			if string(got.Raw) != tc.frame {
				t.Errorf("Parse(%q).Raw = %q, want the frame", tc.frame, got.Raw)
			}
		})
	}
}

// TestParseCopies: a record holds nothing of the frame's buffer, which the
// reader reuses.
func TestParseCopies(t *testing.T) {
	p := NewParser()
	for _, frame := range []string{"garbage", "<13>Oct 11 22:14:15 host app: hello", "<13>1 - host app - - - hello"} {
		buf := []byte(frame)
		rec := p.Parse(buf, received)
		before := cmp.Diff(capture.Record{}, rec)
		for i := range buf {
			buf[i] = 'X'
		}
		if after := cmp.Diff(capture.Record{}, rec); after != before {
			t.Errorf("Parse(%q): the record changed with the buffer", frame)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 42 ID47 [exampleSDID@32473 iut=\"3\"] \xEF\xBB\xBFmsg",
		"<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed",
		"<13>Feb 29 01:02:03 host app: leap",
		"<14>2024-01-02T03:04:05Z host app: rfc3339",
		"<165>1 2003-10-11T22:14:15.003Z host app - - [bad sd",
		"<13>hello", "garbage", "", "\n", "<192>1 - - - - - -",
	} {
		f.Add([]byte(s))
	}
	p := NewParser()
	f.Fuzz(func(t *testing.T, frame []byte) {
		rec := p.Parse(frame, received)
		if rec.Unparsed != "" {
			if !bytes.Equal(rec.Raw, frame) {
				t.Fatalf("Parse(%q).Raw = %q, want the frame", frame, rec.Raw)
			}
			if _, ok := rec.Fields[FieldMessage]; ok {
				t.Fatalf("Parse(%q): an unparsed record has a message field", frame)
			}
		} else {
			if f := rec.Fields[FieldFormat]; f != RFC5424 && f != RFC3164 {
				t.Fatalf("Parse(%q): parsed, format %v", frame, f)
			}
			if _, ok := rec.Fields[FieldPriority]; !ok {
				t.Fatalf("Parse(%q): parsed without a priority", frame)
			}
		}
		for name, v := range rec.Fields {
			switch v.(type) {
			case string, int64:
			default:
				t.Fatalf("Parse(%q): field %s is a %T", frame, name, v)
			}
		}
	})
}

// BenchmarkParse measures Parse alone, on an RFC 5424 and an RFC 3164
// message (which RFC 5424 is tried on first).
func BenchmarkParse(b *testing.B) {
	for name, frame := range map[string]string{
		"rfc5424": `<86>1 2026-03-01T10:00:00.123456Z web1.force.example sshd 4242 - [origin@32473 user="ann" ip="192.0.2.10"] Accepted publickey for ann from 192.0.2.10 port 51234 ssh2`,
		"rfc3164": `<86>Mar  1 10:00:00 web1 sshd[4242]: Accepted publickey for ann from 192.0.2.10 port 51234 ssh2`,
	} {
		b.Run(name, func(b *testing.B) {
			p := NewParser()
			in := []byte(frame)
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				p.Parse(in, received)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
