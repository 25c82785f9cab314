package pages

func (Transparency) template() string { return "transparency.html" }

// Transparency is the public page of figures about monitoring: one row a
// measure, one column a quarter and the last the year (Periods names
// them); a suppressed figure reads "fewer than Threshold".
type Transparency struct {
	Layout
	Organisation  string
	Threshold     string
	Built         string
	Periods       []string
	Rows          []TransparencyRow
	NoticePercent string // "" when not shown
}

// TransparencyRow is one measure's figures, a period each.
type TransparencyRow struct {
	Label  string
	Values []string
}
