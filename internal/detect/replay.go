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
	"github.com/lbm-project/lbm/internal/safetext"
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
	// Score is how the alerts match labels, once Label has been called;
	// LabelsFile names the labels.
	Score      *Score
	LabelsFile string
	rules      []*Rule // in the order compiled
}

// Label scores the report's alerts against labels (see [Score]), read
// from file, matching alerts within slack of a label's span.
func (rep *Report) Label(labels []Label, file string, slack time.Duration) {
	ids := make([]string, len(rep.rules))
	for i, r := range rep.rules {
		ids[i] = r.ID
	}
	s := ScoreAlerts(rep.Alerts, labels, ids, slack)
	rep.Score, rep.LabelsFile = &s, file
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
		// The key is printed apart from why, which never holds it, as
		// alerts shown to people put a pseudonym in its place.
		fmt.Fprintf(&b, "line %d: %s (%s)%s for %s: %s\n", lineOf(a.Events[len(a.Events)-1]), a.Rule, a.Severity, special, safetext.Quote(a.Key), a.Why)
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
	if s := rep.Score; s != nil {
		fmt.Fprintf(&b, "\n%s: %s; an alert matches a label of its rule for the same user.id or key within %s of its span\n",
			rep.LabelsFile, plural(s.Total.Labels, "label"), s.Slack)
		if rep.Omitted > 0 {
			fmt.Fprintf(&b, "(only the first %d alerts are scored)\n", len(rep.Alerts))
		}
		tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "RULE\tALERTS\tMATCHED\tPRECISION\tLABELS\tCAUGHT\tRECALL\t")
		row := func(r RuleScore, name string) {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%d\t%d\t%s\t\n", name, r.Alerts, r.Matched, ratio(r.Precision), r.Labels, r.Caught, ratio(r.Recall))
		}
		for _, r := range s.Rules {
			row(r, r.Rule)
		}
		row(s.Total, "total")
		tw.Flush()
	}
	// The table pads the last column's cells even where they are empty.
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	_, err := io.WriteString(w, strings.Join(lines, "\n"))
	return err
}

// ratio formats a precision or recall; -1 (none) is "-".
func ratio(x float64) string {
	if x < 0 {
		return "-"
	}
	return strconv.FormatFloat(x, 'f', 2, 64)
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
	Score        *jsonScore  `json:"score,omitempty"`
}

type jsonScore struct {
	Labels string      `json:"labels"`
	Slack  string      `json:"slack"`
	Rules  []RuleScore `json:"rules"`
	Total  RuleScore   `json:"total"`
}

type jsonAlert struct {
	Rule            string    `json:"rule"`
	Title           string    `json:"title"`
	Severity        Severity  `json:"severity"`
	SpecialCategory bool      `json:"special_category"`
	Key             string    `json:"key"`
	Subject         string    `json:"subject"`
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
//	 "special_category","key","subject","time","lines":[…],"why"}…],"omitted",
//	 "rules":[{"id","severity","special_category","fired","errors",
//	 "first_error","first_error_line"}…],
//	 "score":{"labels","slack","rules":[{"rule","alerts","matched",
//	 "precision","labels","caught","recall"}…],"total":{…}}}
//
// with score only once Label has been called; a precision or recall of
// -1 means there was nothing to divide by.
func (rep *Report) WriteJSON(w io.Writer) error {
	out := jsonReport{File: rep.File, Events: rep.Stats.Events, Confidential: rep.Stats.Confidential, Omitted: rep.Omitted,
		Alerts: []jsonAlert{}, Rules: []jsonRule{}}
	for _, a := range rep.Alerts {
		ja := jsonAlert{Rule: a.Rule, Title: a.Title, Severity: a.Severity, SpecialCategory: a.SpecialCategory, Key: a.Key, Subject: a.Subject, Time: a.Time, Why: a.Why}
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
	if s := rep.Score; s != nil {
		out.Score = &jsonScore{Labels: rep.LabelsFile, Slack: s.Slack.String(), Rules: s.Rules, Total: s.Total}
		out.Score.Total.Rule = "total"
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
