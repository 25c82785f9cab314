package email

// For the external tests (smtp_test.go, which needs internal/ingest, which
// imports this package).
var (
	MessageForTest       = mixed
	AlternativeForTest   = alternative
	JournalReportForTest = journalReport(mixed, envelope)
)

func CRLF(s string) string { return crlf(s) }
