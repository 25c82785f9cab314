package pages

func (LogVerification) template() string { return "log-verification.html" }

// LogVerification shows, for each log, whether it extends every
// checkpoint it published (tlog.VerifyHistory over the store), and how
// anyone holding a saved checkpoint checks the same from outside.
type LogVerification struct {
	Layout
	Logs   []LogCheck
	Server string // the address to give lbm verify --server
	// Witnesses is nil when no witness is configured.
	Witnesses *WitnessSection
}

// LogCheck is one log's history check. OK with Checked "0" means it has
// published no checkpoint before its current one.
type LogCheck struct {
	Name, Origin, VerifierKey string
	OK                        bool
	Checked, First, Last      string
	Current                   string
	Problems                  []string
	Error                     string // the log could not be read at all
}

// WitnessSection is the witnesses' status (internal/witness): the policy,
// and for each witness and log the last checkpoint it cosigned, the last
// attempt and its error. Times are formatted for people.
type WitnessSection struct {
	Quorum, Count string
	FailClosed    bool
	Rows          []WitnessRow
}

// WitnessRow is one witness's status for one log. Cosigned is "" when the
// witness has cosigned nothing of the log; Error "" when the last attempt
// succeeded.
type WitnessRow struct {
	Name, URL, Key, Log         string
	Cosigned, CosignedAt, Tried string
	Error                       string
}
