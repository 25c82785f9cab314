package detect

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lbm-project/lbm/internal/event"
)

// MaxReportAlerts bounds the alerts a [Report] keeps; further alerts are
// only counted.
const MaxReportAlerts = 100_000

// A Report is what replaying a file of events through an engine found:
// `lbm rules test`.
type Report struct {
	File    string  // the events file, as named to Replay
	Alerts  []Alert // at most MaxReportAlerts, in the order fired
	Omitted int     // alerts fired beyond MaxReportAlerts
	Stats   Stats
	rules   []*Rule // in the order compiled
}

// Replay reads NDJSON events from r (named file in messages), each as if
// sent by source, and observes them with e, which should be fresh. Events
// read from a file have no ID: each is given one that holds its line
// number, so that the report can name the lines an alert rests on.
//
// Blank lines are skipped. An event that does not parse is an
// *event.ParseError naming the line, and an event earlier than the one
// before it an error naming its line and wrapping ErrOutOfOrder: rules
// need events in time order, as `lbm simulate` writes them.
func Replay(e *Engine, r io.Reader, file, source string) (*Report, error) {
	rep := &Report{File: file}
	for _, rr := range e.rules {
		rep.rules = append(rep.rules, rr.rule)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), event.MaxLineBytes+2)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		ev, err := event.Parse(b, source)
		if err != nil {
			var pe *event.ParseError
			if errors.As(err, &pe) {
				pe.Line = line
			}
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		ev.ID = lineID(line)
		alerts, err := e.Observe(ev)
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: %w (sort the events by @timestamp)", file, line, err)
		}
		for _, a := range alerts {
			if len(rep.Alerts) == MaxReportAlerts {
				rep.Omitted++
				continue
			}
			rep.Alerts = append(rep.Alerts, a)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s: %w", file, &event.ParseError{Line: line + 1, Msg: fmt.Sprintf("longer than %d bytes", event.MaxLineBytes)})
		}
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	rep.Stats = e.Stats()
	return rep, nil
}

// lineID is the ID Replay gives the event on line n.
func lineID(n int) event.ID {
	var id event.ID
	binary.BigEndian.PutUint64(id[8:], uint64(n))
	return id
}

// lineOf returns the line lineID(n) was made from.
func lineOf(id event.ID) int { return int(binary.BigEndian.Uint64(id[8:])) }

// maxLinesShown bounds the event lines WriteText lists per alert.
const maxLinesShown = 20

// WriteText writes the report for people: each alert, with why and the
// lines of its events, then a table of rules and how often each fired.
func (rep *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, a := range rep.Alerts {
		lines := make([]string, 0, min(len(a.Events), maxLinesShown))
		for i, id := range a.Events {
			if i == maxLinesShown {
				lines = append(lines, fmt.Sprintf("and %d more", len(a.Events)-maxLinesShown))
				break
			}
			lines = append(lines, strconv.Itoa(lineOf(id)))
		}
		special := ""
		if a.SpecialCategory {
			special = " [special category]"
		}
		fmt.Fprintf(&b, "line %d: %s (%s)%s: %s\n", lineOf(a.Events[len(a.Events)-1]), a.Rule, a.Severity, special, a.Why)
		fmt.Fprintf(&b, "    at %s; events on lines %s\n", a.Time.Format(time.RFC3339Nano), strings.Join(lines, ", "))
	}
	if rep.Omitted > 0 {
		fmt.Fprintf(&b, "… and %d more alerts, not shown\n", rep.Omitted)
	}
	if len(rep.Alerts) > 0 {
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%s: %s, %d skipped as confidential; %s\n",
		rep.File, plural(rep.Stats.Events, "event"), rep.Stats.Confidential, plural(len(rep.Alerts)+rep.Omitted, "alert"))
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tSEVERITY\tFIRED\tNOTES")
	for i, s := range rep.Stats.Rules {
		r := rep.rules[i]
		note := ""
		if s.Errors > 0 {
			note = fmt.Sprintf("%s failed (first on line %d: %s)", plural(s.Errors, "evaluation"), lineOf(s.FirstErrorEvent), s.FirstError)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Rule, r.Severity, plural(s.Fired, "time"), note)
	}
	tw.Flush()
	// The table pads the last column's cells even where they are empty.
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	_, err := io.WriteString(w, strings.Join(lines, "\n"))
	return err
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

type jsonReport struct {
	File         string      `json:"file"`
	Events       int         `json:"events"`
	Confidential int         `json:"confidential"`
	Alerts       []jsonAlert `json:"alerts"`
	Omitted      int         `json:"omitted"`
	Rules        []jsonRule  `json:"rules"`
}

type jsonAlert struct {
	Rule            string    `json:"rule"`
	Title           string    `json:"title"`
	Severity        Severity  `json:"severity"`
	SpecialCategory bool      `json:"special_category"`
	Key             string    `json:"key"`
	Time            time.Time `json:"time"`
	Lines           []int     `json:"lines"`
	Why             string    `json:"why"`
}

type jsonRule struct {
	ID              string   `json:"id"`
	Severity        Severity `json:"severity"`
	SpecialCategory bool     `json:"special_category"`
	Fired           int      `json:"fired"`
	Errors          int      `json:"errors"`
	FirstError      string   `json:"first_error,omitempty"`
	FirstErrorLine  int      `json:"first_error_line,omitempty"`
}

// WriteJSON writes the report as one JSON object:
//
//	{"file","events","confidential","alerts":[{"rule","title","severity",
//	 "special_category","key","time","lines":[…],"why"}…],"omitted",
//	 "rules":[{"id","severity","special_category","fired","errors",
//	 "first_error","first_error_line"}…]}
func (rep *Report) WriteJSON(w io.Writer) error {
	out := jsonReport{File: rep.File, Events: rep.Stats.Events, Confidential: rep.Stats.Confidential, Omitted: rep.Omitted,
		Alerts: []jsonAlert{}, Rules: []jsonRule{}}
	for _, a := range rep.Alerts {
		ja := jsonAlert{Rule: a.Rule, Title: a.Title, Severity: a.Severity, SpecialCategory: a.SpecialCategory, Key: a.Key, Time: a.Time, Why: a.Why}
		for _, id := range a.Events {
			ja.Lines = append(ja.Lines, lineOf(id))
		}
		out.Alerts = append(out.Alerts, ja)
	}
	for i, s := range rep.Stats.Rules {
		r := rep.rules[i]
		jr := jsonRule{ID: s.Rule, Severity: r.Severity, SpecialCategory: r.SpecialCategory, Fired: s.Fired, Errors: s.Errors, FirstError: s.FirstError}
		if s.Errors > 0 {
			jr.FirstErrorLine = lineOf(s.FirstErrorEvent)
		}
		out.Rules = append(out.Rules, jr)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
