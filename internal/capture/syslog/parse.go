package syslog

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	gosyslog "github.com/leodido/go-syslog/v4"
	"github.com/leodido/go-syslog/v4/common"
	"github.com/leodido/go-syslog/v4/rfc3164"
	"github.com/leodido/go-syslog/v4/rfc5424"

	"github.com/lbm-project/lbm/internal/capture"
)

// The names of the fields a Record carries, a contract with the input's
// built-in mapping (internal/capture/mapping). A structured-data parameter
// is FieldSD + SDID + "." + PARAM, as sent.
const (
	FieldPriority      = "log.syslog.priority"
	FieldFacilityCode  = "log.syslog.facility.code"
	FieldFacilityName  = "log.syslog.facility.name"
	FieldSeverityCode  = "log.syslog.severity.code"
	FieldSeverityName  = "log.syslog.severity.name"
	FieldVersion       = "log.syslog.version"
	FieldHostname      = "log.syslog.hostname"
	FieldAppname       = "log.syslog.appname"
	FieldProcID        = "log.syslog.procid"
	FieldMsgID         = "log.syslog.msgid"
	FieldSD            = "log.syslog.structured_data."
	FieldMessage       = "message"
	FieldFormat        = "log.syslog.format"
	FieldSourceIP      = "source.ip"
	FieldSourcePort    = "source.port"
	FieldTransport     = "network.transport"
	FieldClientSubject = "tls.client.subject"
)

// The values of FieldFormat.
const (
	RFC5424 = "rfc5424"
	RFC3164 = "rfc3164"
)

// Parser turns one frame into a Record. A Parser is not safe for
// concurrent use (the machines keep state between calls): each connection
// has its own.
type Parser struct {
	rfc5424, rfc3164 gosyslog.Machine
}

// NewParser returns a Parser.
func NewParser() *Parser {
	return &Parser{
		rfc5424: rfc5424.NewMachine(rfc5424.WithBestEffort()),
		// No WithYear: a Stamp timestamp ("Oct 11 22:14:15") comes out in
		// year 0, which is a leap year, so that "Feb 29" parses and Parse
		// can tell a Stamp (year 0) from an RFC 3339 timestamp, whose year
		// is the sender's and stays.
		rfc3164: rfc3164.NewMachine(rfc3164.WithBestEffort(), rfc3164.WithRFC3339(),
			rfc3164.WithTimezone(time.UTC), rfc3164.WithLenientDay(), rfc3164.WithSecondFractions(),
			rfc3164.WithEmbeddedNewlines()),
	}
}

// Parse returns the Record frame holds, read at received. It never fails:
// a frame that is neither RFC 5424 nor RFC 3164 comes back with Unparsed
// saying why, Raw holding a copy of the frame, and the header fields that
// could be read (the priority, and for an RFC 5424 header the fields
// before the fault); its MSG is then only in Raw.
//
// One trailing LF (or CR LF), which many senders add to a datagram or an
// octet-counted frame, is not part of the message. A leading byte order
// mark is removed from MSG. RFC 5424 is tried first, then RFC 3164, whose
// timestamp has no year (the year that puts it nearest received is taken)
// and no zone (UTC).
func (p *Parser) Parse(frame []byte, received time.Time) capture.Record {
	rec := capture.Record{Fields: make(map[string]any, 20), Received: received}
	in := bytes.TrimSuffix(frame, []byte("\n"))
	in = bytes.TrimSuffix(in, []byte("\r"))
	if len(in) == 0 {
		return unparsed(rec, "empty message", frame)
	}
	m5, err5 := p.rfc5424.Parse(in)
	if err5 == nil && m5 != nil {
		m := m5.(*rfc5424.SyslogMessage)
		rec.Fields[FieldFormat] = RFC5424
		header5424(&rec, m)
		if m.StructuredData != nil {
			for id, params := range *m.StructuredData {
				for k, v := range params {
					rec.Fields[FieldSD+id+"."+k] = v
				}
			}
		}
		if m.Message != nil {
			rec.Fields[FieldMessage] = strings.TrimPrefix(*m.Message, "\uFEFF")
		}
		return rec
	}
	m3, err3 := p.rfc3164.Parse(in)
	// The RFC 3164 machine accepts some frames without reading a
	// timestamp (an RFC 5424 frame it cannot follow, for one): a message
	// with no timestamp is not one it understood.
	if err3 == nil && m3 != nil && m3.(*rfc3164.SyslogMessage).Timestamp != nil {
		m := m3.(*rfc3164.SyslogMessage)
		rec.Fields[FieldFormat] = RFC3164
		base(&rec, &m.Base)
		rec.Time = nearestYear(*m.Timestamp, received)
		if m.Message != nil {
			rec.Fields[FieldMessage] = strings.TrimPrefix(*m.Message, "\uFEFF")
		}
		return rec
	}
	if err3 == nil {
		err3 = fmt.Errorf("no timestamp")
	}
	why := fmt.Sprintf("neither RFC 5424 (%v) nor RFC 3164 (%v)", reason(err5), reason(err3))
	switch {
	case m5 != nil && m5.(*rfc5424.SyslogMessage).Version == 1 && sentPriority(in, m5.(*rfc5424.SyslogMessage).Priority) && bytes.Contains(in[:min(len(in), 8)], []byte(">1 ")):
		// An RFC 5424 header read up to a fault further on (in the
		// structured data, say): what came before it is sound.
		header5424(&rec, m5.(*rfc5424.SyslogMessage))
	case m3 != nil && sentPriority(in, m3.(*rfc3164.SyslogMessage).Priority):
		priority(&rec, &m3.(*rfc3164.SyslogMessage).Base)
	case m5 != nil && sentPriority(in, m5.(*rfc5424.SyslogMessage).Priority):
		priority(&rec, &m5.(*rfc5424.SyslogMessage).Base)
	}
	return unparsed(rec, why, frame)
}

// sentPriority reports whether frame starts with the priority a machine
// that gave up read: from "<192>" it reads 19 before it fails.
func sentPriority(frame []byte, pri *uint8) bool {
	return pri != nil && bytes.HasPrefix(frame, []byte("<"+strconv.Itoa(int(*pri))+">"))
}

func reason(err error) string {
	if err == nil {
		return "no message"
	}
	return err.Error()
}

// unparsed marks rec as not understood, keeping a copy of frame (the
// caller's buffer is reused) and no message field: Raw carries it.
func unparsed(rec capture.Record, why string, frame []byte) capture.Record {
	rec.Unparsed = why
	rec.Raw = bytes.Clone(frame)
	if rec.Raw == nil {
		rec.Raw = []byte{}
	}
	delete(rec.Fields, FieldMessage)
	return rec
}

func header5424(rec *capture.Record, m *rfc5424.SyslogMessage) {
	base(rec, &m.Base)
	rec.Fields[FieldVersion] = int64(m.Version)
	if m.Timestamp != nil {
		rec.Time = *m.Timestamp
	}
}

func base(rec *capture.Record, m *gosyslog.Base) {
	priority(rec, m)
	set := func(name string, v *string) {
		if v != nil {
			rec.Fields[name] = *v
		}
	}
	set(FieldHostname, m.Hostname)
	set(FieldAppname, m.Appname)
	set(FieldProcID, m.ProcID)
	set(FieldMsgID, m.MsgID)
}

func priority(rec *capture.Record, m *gosyslog.Base) {
	if m.Priority == nil || !common.ValidPriority(*m.Priority) {
		return
	}
	rec.Fields[FieldPriority] = int64(*m.Priority)
	rec.Fields[FieldFacilityCode] = int64(*m.Facility)
	rec.Fields[FieldFacilityName] = *m.FacilityLevel()
	rec.Fields[FieldSeverityCode] = int64(*m.Severity)
	rec.Fields[FieldSeverityName] = *m.SeverityShortLevel()
}

// nearestYear gives a timestamp parsed from an RFC 3164 Stamp (year 0)
// the year that puts it nearest received: a message stamped "Dec 31
// 23:59:59" and read on 1 January belongs to the year before. A
// timestamp with a year of its own is returned as it is.
func nearestYear(t, received time.Time) time.Time {
	if t.Year() != 0 {
		return t
	}
	var best time.Time
	for y := received.Year() - 1; y <= received.Year()+1; y++ {
		c := time.Date(y, t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
		if c.Day() != t.Day() { // 29 February in a year without one
			continue
		}
		if best.IsZero() || c.Sub(received).Abs() < best.Sub(received).Abs() {
			best = c
		}
	}
	return best
}

// ParseFrame is Parse for a frame a Framer read: a frame cut short is
// kept as unparsed, saying why.
func (p *Parser) ParseFrame(f Frame, received time.Time) capture.Record {
	rec := p.Parse(f.Data, received)
	if f.Short != "" {
		rec = unparsed(rec, f.Short, f.Data)
	}
	return rec
}
