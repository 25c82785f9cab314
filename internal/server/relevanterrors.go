package server

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/lbm-project/lbm/internal/relevanterror"
)

// BankHolidaysFile, in the data directory, replaces the embedded England
// and Wales bank holidays the register's deadlines count working days
// by: gov.uk's bank-holidays.json, as https://www.gov.uk/bank-holidays.json
// serves it. Without it the embedded years (relevanterror.DefaultCalendar)
// are used, and a deadline beyond them is refused rather than guessed.
const BankHolidaysFile = "bank-holidays.json"

// RelevantErrorSweep is how often lapsed urgent authorisations are
// checked for access records (relevanterror.Service.RaiseLapsed).
const RelevantErrorSweep = 5 * time.Minute

// openRelevantErrors builds the register's service for n.
func openRelevantErrors(n *Node, dataDir string) (*relevanterror.Service, error) {
	cal, err := loadBankHolidays(filepath.Join(dataDir, BankHolidaysFile))
	if err != nil {
		return nil, err
	}
	return &relevanterror.Service{Store: n.Store, Record: n.OversightAccess, Now: n.Now, Calendar: cal,
		Accessed: relevanterror.AccessedUnder(n.Store, n.Opener.OpenMetadata, n.Now)}, nil
}

func loadBankHolidays(path string) (*relevanterror.Calendar, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return relevanterror.DefaultCalendar(), nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, relevanterror.MaxCalendarSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %v", path, err)
	}
	c, err := relevanterror.ParseCalendar(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
