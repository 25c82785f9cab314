package pages

func (LogVerification) template() string { return "log-verification.html" }

// LogVerification shows, for each log, whether it extends every
// checkpoint it published (tlog.VerifyHistory over the store), and how
// anyone holding a saved checkpoint checks the same from outside.
type LogVerification struct {
	Layout
	Logs   []LogCheck
	Server string // the address to give lbm verify --server
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
