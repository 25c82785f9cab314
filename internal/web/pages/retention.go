package pages

func (Retention) template() string { return "retention.html" }

// Retention is the public page of the retention schedule in force (GET
// /retention): for each data category, what is recorded and how long its
// details and its content are kept. Staff and the Data Protection Officer
// read it; the retention job names the same version when it deletes.
type Retention struct {
	Layout
	// Version is the catalogue version the schedule comes from: "0" is
	// the schedule built into lbm.
	Version string
	Rows    []RetentionRow
}

// RetentionRow is one data category's line of the schedule. Content is ""
// and ContentKept "" for a category that has no content.
type RetentionRow struct {
	ID, Category, Collected, Content string
	Kept, ContentKept                string // e.g. "12 months"
}
