package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/record"
)

// EntryStatusJSON is GET /v1/logs/{log}/entries/{index}: whether an entry
// is stored whole, has had its content deleted, or has been deleted under
// retention, and when and by which schedule. Nothing of what the entry
// says is in it: the leaf's time and source are public in the log's
// tiles already, and its category says which schedule applies.
type EntryStatusJSON struct {
	Log      string `json:"log"`
	Index    uint64 `json:"index"`
	Time     string `json:"time"`
	Source   string `json:"source"`
	Category string `json:"category"`
	// State is "stored", "content_deleted" or "deleted".
	State     string `json:"state"`
	Deleted   string `json:"deleted,omitempty"` // RFC 3339, when retention deleted the content or the entry
	DeletedBy string `json:"deleted_by,omitempty"`
	// Message says the same in a sentence, e.g. "deleted under retention
	// on 28 November 2026 by retention schedule v3: web entries after 12
	// months".
	Message string `json:"message"`
}

func (s *server) apiEntryStatus(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	l, err := s.logFor(r)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	index, err := strconv.ParseUint(r.PathValue("index"), 10, 63)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, errNotFound)
		return
	}
	ens, err := s.cfg.Store.Entries(r.Context(), l.Name, index, index+1)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	if len(ens) == 0 {
		writeProblem(w, r, s.cfg.Logger, errNotFound)
		return
	}
	en := ens[0]
	out := EntryStatusJSON{Log: l.Name, Index: en.Index, Time: time.Unix(0, en.Time).UTC().Format(time.RFC3339Nano), Source: en.Source,
		Category: en.Category, State: "stored", Message: "stored"}
	// Checked against its leaf and the tree as any read is: a status is
	// only as good as the row it reads.
	_, err = s.cfg.Opener.OpenMetadata(r.Context(), en)
	if de, ok := errors.AsType[*record.DeletedError](err); ok {
		out.State, out.Deleted, out.DeletedBy, out.Message = "deleted", de.At.Format(time.RFC3339), de.By, de.Error()
	} else if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	} else if en.ContentDeleted != 0 {
		at := time.Unix(0, en.ContentDeleted).UTC()
		out.State, out.Deleted, out.DeletedBy = "content_deleted", at.Format(time.RFC3339), en.DeletedBy
		out.Message = "content deleted under retention on " + at.Format("2 January 2006") + " by " + en.DeletedBy
	}
	writeJSON(w, http.StatusOK, out)
}
