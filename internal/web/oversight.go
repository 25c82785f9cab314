package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/tlog"
	"github.com/lbm-project/lbm/internal/web/pages"
	"github.com/lbm-project/lbm/internal/witness"
)

// OversightEntryJSON is one leaf of the oversight log in the API.
type OversightEntryJSON struct {
	Index      uint64         `json:"index"`
	ID         string         `json:"id"`
	Time       time.Time      `json:"time"`
	Actor      string         `json:"actor"`
	Action     string         `json:"action"`
	BreakGlass bool           `json:"break_glass"`
	Details    map[string]any `json:"details"`
}

// oversightLog is the name of the log of what the monitors did.
const oversightLog = "oversight"

// oversightPage reads up to limit oversight entries before index before
// (the log's size when before is ""), newest first, each re-checked
// against the log as it is opened. It returns them, the log's size, and
// the index to continue from (0 when there is nothing older).
func (s *server) oversightPage(r *http.Request, limit int) ([]OversightEntryJSON, uint64, uint64, error) {
	ctx := r.Context()
	st, err := s.cfg.Store.LogState(ctx, oversightLog)
	if err != nil {
		return nil, 0, 0, err
	}
	before := st.Size
	if b := r.URL.Query().Get("before"); b != "" {
		n, err := strconv.ParseUint(b, 10, 64)
		if err != nil || n > st.Size {
			return nil, 0, 0, &validationError{"before", fmt.Sprintf("an entry index from 0 to %d", st.Size)}
		}
		before = n
	}
	from := before - min(uint64(limit), before)
	entries, err := s.cfg.Store.Entries(ctx, oversightLog, from, before)
	if err != nil {
		return nil, 0, 0, err
	}
	out := make([]OversightEntryJSON, 0, len(entries))
	for i := len(entries) - 1; i >= 0; i-- {
		opened, err := s.cfg.Opener.Open(ctx, entries[i])
		if err != nil {
			return nil, 0, 0, fmt.Errorf("opening oversight entry %d: %w", entries[i].Index, err)
		}
		e := opened.Event
		row := OversightEntryJSON{Index: entries[i].Index, ID: e.ID.String(), Time: e.Time.UTC(), Details: map[string]any{}}
		for _, f := range e.Fields {
			var v any
			json.Unmarshal(f.Value, &v)
			switch name := f.Name; {
			case name == "user.id":
				row.Actor, _ = v.(string)
			case name == "event.action":
				row.Action, _ = v.(string)
			case name == "lbm.break_glass":
				row.BreakGlass, _ = v.(bool)
			case strings.HasPrefix(name, "lbm."):
				row.Details[strings.TrimPrefix(name, "lbm.")] = v
			}
		}
		out = append(out, row)
	}
	return out, st.Size, from, nil
}

func (s *server) apiOversightLog(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	limit, err := pageLimit(r, 100)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	entries, size, older, err := s.oversightPage(r, limit)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	out := struct {
		Size    uint64               `json:"size"`
		Entries []OversightEntryJSON `json:"entries"`
		Before  *uint64              `json:"before,omitempty"` // pass as ?before= for older entries
	}{Size: size, Entries: entries}
	if older > 0 {
		out.Before = &older
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) oversightLogPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	entries, size, older, err := s.oversightPage(r, 50)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page := &pages.OversightLog{Layout: s.layout(r, p, "Oversight log"), Size: size}
	for _, e := range entries {
		row := pages.OversightRow{Index: strconv.FormatUint(e.Index, 10), Time: e.Time.Format("2 Jan 2006 15:04:05"),
			Actor: e.Actor, Action: strings.ReplaceAll(e.Action, "_", " "), BreakGlass: e.BreakGlass}
		for _, k := range sortedKeys(e.Details) {
			if v := detailText(e.Details[k]); v != "" {
				row.Details = append(row.Details, strings.ReplaceAll(k, "_", " ")+": "+v)
			}
		}
		page.Rows = append(page.Rows, row)
	}
	if older > 0 {
		page.Older = "/oversight?" + url.Values{"before": {strconv.FormatUint(older, 10)}}.Encode()
	}
	s.render(w, r, http.StatusOK, page)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// detailText is a detail's value as the page shows it: lists joined with
// commas, and "" for an empty value, which the page leaves out.
func detailText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case []any:
		parts := make([]string, 0, len(v))
		for _, x := range v {
			parts = append(parts, detailText(x))
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(v)
}

// logVerificationPage checks each log against every checkpoint it
// published, as lbm verify history does, from the store.
func (s *server) logVerificationPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	page := &pages.LogVerification{Layout: s.layout(r, p, "Log verification"), Server: strings.TrimSuffix(s.cfg.BaseURL, "/")}
	if page.Server == "" {
		page.Server = "https://" + r.Host
	}
	logs, err := s.allLogs(r.Context())
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	for _, l := range logs {
		c := pages.LogCheck{Name: l.Name, Origin: l.Origin, VerifierKey: l.VerifierKey}
		h, err := tlog.VerifyHistory(r.Context(), tlog.NewStoreLog(s.cfg.Store, l.Name), l.VerifierKey, nil)
		if err != nil {
			s.cfg.Logger.ErrorContext(r.Context(), "verifying a log's history", "log", l.Name, "err", err)
			c.Error = "see the server's log"
		}
		c.OK, c.Problems = h.OK() && err == nil, h.Problems
		c.Checked, c.First, c.Last, c.Current = strconv.FormatUint(h.Checked, 10), strconv.FormatUint(h.First, 10),
			strconv.FormatUint(h.Last, 10), strconv.FormatUint(h.Current, 10)
		page.Logs = append(page.Logs, c)
	}
	if s.cfg.Witnesses != nil {
		page.Witnesses = witnessSection(s.cfg.Witnesses.Report())
	}
	s.render(w, r, http.StatusOK, page)
}

// witnessSection turns the witnesses' report into the page's rows.
func witnessSection(rep witness.Report) *pages.WitnessSection {
	sec := &pages.WitnessSection{Quorum: strconv.Itoa(rep.Quorum), Count: strconv.Itoa(len(rep.Witnesses)), FailClosed: rep.Fail == witness.FailClosed}
	when := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format("2 Jan 2006 15:04:05 MST")
	}
	for _, wr := range rep.Witnesses {
		for _, ls := range wr.Logs {
			row := pages.WitnessRow{Name: wr.Name, URL: wr.URL, Key: wr.Key, Log: ls.Log,
				CosignedAt: when(ls.CosignedAt), Tried: when(ls.LastAttempt), Error: ls.LastError}
			if ls.CosignedSize != nil {
				row.Cosigned = strconv.FormatUint(*ls.CosignedSize, 10)
			}
			sec.Rows = append(sec.Rows, row)
		}
	}
	return sec
}
