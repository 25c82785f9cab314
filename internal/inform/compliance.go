package inform

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/safetext"
	"github.com/lbm-project/lbm/internal/store"
)

// Compliance is the report of who has not acknowledged the current notice,
// grouped by unit and, within a unit, by line manager.
type Compliance struct {
	Notice   store.Notice
	Coverage store.NoticeCoverage
	Units    []UnitGroup
}

// UnitGroup is one unit's people who have not acknowledged.
type UnitGroup struct {
	Unit     string // "" for people with no unit
	Managers []ManagerGroup
}

// ManagerGroup is one line manager's people who have not acknowledged.
type ManagerGroup struct {
	Manager     string // the manager's ID; "" for people with none
	ManagerName string // "" when the manager is not in the directory
	People      []store.Person
}

// Outstanding counts the people listed.
func (c Compliance) Outstanding() int {
	n := 0
	for _, u := range c.Units {
		for _, m := range u.Managers {
			n += len(m.People)
		}
	}
	return n
}

// ComplianceReport builds the report for the current notice at now:
// everyone who has not left and has not acknowledged it.
func ComplianceReport(ctx context.Context, st store.Store, now time.Time) (Compliance, error) {
	n, err := CurrentNotice(ctx, st)
	if err != nil {
		return Compliance{}, err
	}
	cov, err := st.Coverage(ctx, n.Version, now)
	if err != nil {
		return Compliance{}, fmt.Errorf("counting acknowledgements: %w", err)
	}
	people, err := st.Unacknowledged(ctx, n.Version, now)
	if err != nil {
		return Compliance{}, fmt.Errorf("listing who has not acknowledged: %w", err)
	}
	rep := Compliance{Notice: n, Coverage: cov}
	names := map[string]string{}
	for _, p := range people {
		names[p.ID] = p.Name
	}
	// People come ordered by unit, then manager: each group is a run.
	for _, p := range people {
		if len(rep.Units) == 0 || rep.Units[len(rep.Units)-1].Unit != p.Unit {
			rep.Units = append(rep.Units, UnitGroup{Unit: p.Unit})
		}
		u := &rep.Units[len(rep.Units)-1]
		if len(u.Managers) == 0 || u.Managers[len(u.Managers)-1].Manager != p.Manager {
			name, err := managerName(ctx, st, names, p.Manager)
			if err != nil {
				return Compliance{}, err
			}
			u.Managers = append(u.Managers, ManagerGroup{Manager: p.Manager, ManagerName: name})
		}
		m := &u.Managers[len(u.Managers)-1]
		m.People = append(m.People, p)
	}
	return rep, nil
}

// managerName finds a manager's name, looking up (once) those who are not
// themselves in the report.
func managerName(ctx context.Context, st store.People, names map[string]string, id string) (string, error) {
	if id == "" {
		return "", nil
	}
	if name, ok := names[id]; ok {
		return name, nil
	}
	p, err := st.PersonByID(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return "", fmt.Errorf("reading manager %s: %w", id, err)
	}
	names[id] = p.Name
	return p.Name, nil
}

// ComplianceCSVHeader is the header row of the CSV report.
var ComplianceCSVHeader = []string{"unit", "manager_id", "manager_name", "id", "name", "number", "notice_version"}

// WriteComplianceCSV writes the report as CSV, one row per person. Cells
// that a spreadsheet would run as a formula are prefixed with a quote.
func WriteComplianceCSV(w io.Writer, rep Compliance) error {
	cw := csv.NewWriter(w)
	cw.Write(ComplianceCSVHeader)
	version := fmt.Sprint(rep.Notice.Version)
	for _, u := range rep.Units {
		for _, m := range u.Managers {
			for _, p := range m.People {
				cw.Write([]string{cell(u.Unit), cell(m.Manager), cell(m.ManagerName), cell(p.ID), cell(p.Name), cell(p.Number), version})
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// cell defuses CSV formula injection (OWASP): a directory name such as
// "=HYPERLINK(...)" must stay text when the report is opened.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// ComplianceSummary is the report as GET /v1/reports/notices and
// `lbm report notices --format json` give it: one entry per person.
type ComplianceSummary struct {
	NoticeVersion int64         `json:"notice_version"`
	Active        int           `json:"active"`
	Acknowledged  int           `json:"acknowledged"`
	Outstanding   []Outstanding `json:"outstanding"`
}

// Outstanding is one person who has not acknowledged the current notice.
type Outstanding struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Number      string `json:"number"`
	Unit        string `json:"unit"`
	Manager     string `json:"manager"`
	ManagerName string `json:"manager_name"`
}

// Summary flattens the report.
func (c Compliance) Summary() ComplianceSummary {
	out := ComplianceSummary{NoticeVersion: c.Notice.Version, Active: c.Coverage.Active, Acknowledged: c.Coverage.Acknowledged,
		Outstanding: []Outstanding{}}
	for _, u := range c.Units {
		for _, m := range u.Managers {
			for _, p := range m.People {
				out.Outstanding = append(out.Outstanding, Outstanding{ID: p.ID, Name: p.Name, Number: p.Number, Unit: u.Unit,
					Manager: m.Manager, ManagerName: m.ManagerName})
			}
		}
	}
	return out
}

// WriteComplianceText writes the report for a terminal: the coverage, then
// each unit and line manager with their people who have not acknowledged.
func WriteComplianceText(w io.Writer, rep Compliance) error {
	pct := 100.0
	if rep.Coverage.Active > 0 {
		pct = 100 * float64(rep.Coverage.Acknowledged) / float64(rep.Coverage.Active)
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "Notice version %d: %d of %d people (%.1f%%) have acknowledged; %d have not.\n",
		rep.Notice.Version, rep.Coverage.Acknowledged, rep.Coverage.Active, pct, rep.Outstanding())
	for _, u := range rep.Units {
		fmt.Fprintf(bw, "\n%s\n", orNone(safetext.Escape(u.Unit), "(no unit)"))
		for _, m := range u.Managers {
			manager := "(no line manager)"
			if m.Manager != "" {
				manager = safetext.Escape(m.Manager)
				if m.ManagerName != "" {
					manager = safetext.Escape(m.ManagerName) + " (" + manager + ")"
				}
			}
			fmt.Fprintf(bw, "  Line manager: %s\n", manager)
			for _, p := range m.People {
				fmt.Fprintf(bw, "    %-12s %s", safetext.Escape(p.ID), safetext.Escape(p.Name))
				if p.Number != "" {
					fmt.Fprintf(bw, " (%s)", safetext.Escape(p.Number))
				}
				bw.WriteString("\n")
			}
		}
	}
	return bw.Flush()
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}
