package pages

func (Holds) template() string { return "holds.html" }

// Holds is the DPO's legal holds (/holds), for the DPO and oversight:
// those in force, newest first, then those released. Place, when not
// empty, is the form placing a hold (POST /holds with "person" and
// "reason"); only the DPO gets it.
type Holds struct {
	Layout
	Place    []Field // person, reason
	InForce  []HoldRow
	Released []HoldRow
}

// HoldRow is one hold. Reason and Note are the texts' lines. Action, when
// not empty, is where its release form posts ("note"), with NoteValue and
// NoteError when a release was refused for its note; the textarea's id is
// "note-" + ID.
type HoldRow struct {
	ID, Person string
	Reason     []string
	Placed     string // when, and by whom
	Released   string // when, and by whom; "" while in force
	Note       []string
	Action     string
	NoteValue  string
	NoteError  string
}
