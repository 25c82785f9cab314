package identity

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lbm-project/lbm/internal/store"

	"github.com/lbm-project/lbm/internal/safetext"
)

// Directory columns, in the order [FormatDirectory] writes them.
var directoryColumns = []string{"id", "name", "number", "unit", "manager", "rank", "grade", "roles", "adviser", "left_on", "email", "username"}

const (
	colID = iota
	colName
	colNumber
	colUnit
	colManager
	colRank
	colGrade
	colRoles
	colAdviser
	colLeftOn
	colEmail
	colUsername
	numColumns
)

// Bounds on a directory file. They keep a malformed or hostile file from
// using unbounded memory; a real directory is far inside them (the Met has
// about 46,000 staff, a row is about 100 bytes).
const (
	// MaxDirectoryLine is the longest line ParseDirectory reads, in bytes,
	// not counting the "\n" that ends it. A row whose quoted fields span
	// several lines is bounded by about the same (blank lines before a
	// row count towards it).
	MaxDirectoryLine = 64 << 10
	// MaxDirectoryRows is the most rows (not counting the header) a
	// directory may have.
	MaxDirectoryRows = 1_000_000
	// maxRowErrors is how many bad rows a *DirectoryError lists; the rest
	// are only counted.
	maxRowErrors = 100
)

// testingOnlyMaxRows is MaxDirectoryRows, lowered by the test of the bound
// so that it need not write a million rows.
var testingOnlyMaxRows = MaxDirectoryRows

// Field bounds, in characters (runes).
const (
	maxIDLen     = 64
	maxNameLen   = 200
	maxNumberLen = 64
	maxUnitLen   = 200
)

// leftOnLayout is the leaving date's form: a date, no time.
const leftOnLayout = "2006-01-02"

// A RowError is one problem in a file that lbm reads: the 1-based line
// (0 when the problem is not on one line), the field or key that is wrong
// ("" when it is the line as a whole), and what is wrong with it.
type RowError struct {
	Line  int
	Field string
	Msg   string
}

func (e *RowError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// A DirectoryError lists what is wrong with a directory file, in line
// order: the first [maxRowErrors] problems in Rows, and how many more
// there were in More.
type DirectoryError struct {
	Rows []RowError
	More int
}

// Error is one problem per line, e.g.
//
//	line 12: rank: unknown rank "captain" (…)
//	line 40: id: duplicate of line 7
func (e *DirectoryError) Error() string {
	var b strings.Builder
	for i := range e.Rows {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Rows[i].Error())
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "\nand %d more", e.More)
	}
	return b.String()
}

// ParseDirectory reads the staff directory that HR exports, so that
// `lbm user import` can store all of it or none of it. The file is CSV (as
// encoding/csv reads it) with a header row, then one row per person:
//
//	id,name,number,unit,manager,rank,grade,roles,adviser,left_on,email,username
//	P1001,Jane Smith,4711,Professional Standards,,superintendent,,authoriser,,,jane.smith@force.example,jsmith
//	P1002,Ali Khan,,"Professional Standards, Intelligence",P1001,,band_c,investigator;adviser,legal,,ali.khan@force.example;a.khan@force.example,
//	P1003,Sam Jones,1234,Lewisham,P1002,constable,,,,2024-03-31,,
//
// The header names the columns id, name, number, unit, manager, rank,
// grade, roles, adviser, left_on, email and username, in any order and in
// any case. id and name are
// required; a missing optional column is empty in every row; an unknown or
// repeated column is refused. Each field is trimmed of surrounding white
// space, and a UTF-8 byte order mark at the start of the file is ignored.
// Blank lines are skipped.
//
// Each row must satisfy:
//
//   - id: 1-64 ASCII letters, digits, '.', '_' or '-', starting with a
//     letter or digit; no two rows have the same id.
//   - name: 1-200 characters; number: at most 64; unit: at most 200. All
//     three are valid UTF-8 without control or formatting characters
//     (Unicode Cc and Cf, but for the zero-width joiner and non-joiner
//     that some scripts need) or line and paragraph separators: names are
//     shown to authorisers and overseers, who must see what is really
//     there, not text that a bidirectional override reorders or an
//     invisible character makes look like someone else's name.
//   - manager: empty, or the id of another row in the same file (the
//     export is complete, so a dangling reference is an error in it), not
//     the person themselves, and no chain of managers loops.
//   - rank: empty or a rank id ([ParseRank]); grade: empty or a key of
//     grades; not both.
//   - roles: person roles ([ParseRole]) separated by ';'. Everyone in the
//     directory is monitored staff, so the role "staff" is always added;
//     an empty field means staff only. Roles are stored sorted and unique.
//   - adviser: empty or an adviser kind ([CheckAdviser]). An adviser gives
//     their view acting in the role "adviser", so a kind requires that
//     role; the one exception is kind "dpo", which the role "dpo" also
//     allows, because the data protection officer gives the DPO's view in
//     their own right.
//   - left_on: empty or a date YYYY-MM-DD, stored as UTC midnight.
//   - email: the person's e-mail addresses, aliases included, separated
//     by ';' or white space; each one [store.CheckEmail] accepts, at most
//     [store.MaxEmails]. They are stored lower-cased, sorted and unique
//     ([store.CleanEmails]). No address is in two rows: captured mail
//     names people by address, and an address of two people could not be
//     attributed to either.
//   - username: empty, or the person's login name on the organisation's
//     systems, which [store.CheckUsername] accepts; stored lower-cased, and
//     no two rows have one username, ignoring case.
//
// The whole file is read before anything is returned. Malformed input of
// any kind gives a *[DirectoryError] listing the bad rows by physical,
// 1-based line number (the header is line 1); a file with no data rows, a
// line over [MaxDirectoryLine] bytes or more than [MaxDirectoryRows] rows
// is refused the same way. An error reading r is returned wrapped.
//
// On success the people are in file order, with Updated and Version zero.
// Memory is proportional to the file's size.
func ParseDirectory(r io.Reader, grades GradeMap) ([]store.Person, error) {
	ps, _, err := parseDirectory(r, grades)
	return ps, err
}

// nameColumns says which of the optional columns email and username a
// directory file has. A file without one says nothing about it, so an
// import keeps what the directory holds (the identity provider may have
// given it); a file with one is the authority for it, empty fields
// included.
type nameColumns struct {
	email, username bool
}

// parseDirectory is ParseDirectory, saying also which name columns the
// file has.
func parseDirectory(r io.Reader, grades GradeMap) ([]store.Person, nameColumns, error) {
	ps, p, err := readDirectory(r, grades)
	if err != nil {
		return nil, nameColumns{}, err
	}
	return ps, nameColumns{email: p.cols[colEmail] >= 0, username: p.cols[colUsername] >= 0}, nil
}

func readDirectory(r io.Reader, grades GradeMap) ([]store.Person, *directoryParser, error) {
	p := &directoryParser{grades: grades, next: 1}
	lim := &lineLimiter{r: r}
	br := bufio.NewReaderSize(lim, readBufferSize)
	b, err := br.Peek(len(bom))
	if err != nil && err != io.EOF {
		return nil, nil, fmt.Errorf("reading directory: %w", err)
	}
	if string(b) == bom {
		br.Discard(len(bom))
		lim.skipped = len(bom)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // checked here, for a clearer message
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true

	if err := p.readHeader(cr, lim); err != nil {
		return nil, nil, err
	}
	if p.nerrs == 0 { // the header is good
		for {
			rec, err := cr.Read()
			lim.mark = cr.InputOffset()
			if err == io.EOF {
				break
			}
			if err != nil {
				if fatal, err := p.readError(err); err != nil {
					return nil, nil, err
				} else if fatal {
					break
				}
				continue
			}
			p.ended(cr, rec)
			if p.n == testingOnlyMaxRows {
				line, _ := cr.FieldPos(0)
				p.stop(line, fmt.Sprintf("more than %d rows", testingOnlyMaxRows))
				break
			}
			p.row(cr, rec)
		}
		if p.fatal == nil && p.n == 0 && p.nerrs == 0 {
			p.add(0, "", "no people: the file has a header but no rows")
		}
		if p.fatal == nil {
			// A truncated file would give spurious dangling managers.
			p.flatten()
			p.checkManagers()
		}
	}
	if p.nerrs > 0 {
		return nil, nil, p.error()
	}
	return p.people, p, nil
}

const bom = "\uFEFF"

// readBufferSize is the bufio buffer csv.Reader reads through. The
// lineLimiter allows for it when bounding a multi-line row.
const readBufferSize = 4096

type directoryParser struct {
	grades GradeMap
	cols   [numColumns]int // field index of each column; -1 if absent
	width  int             // number of fields in the header

	chunks [][]store.Person // the rows' people, while reading
	n      int              // how many
	people []store.Person   // all of them, once read
	lines  []rowLines       // parallel to people

	errs  []RowError
	nerrs int // all errors, kept or not
	// rowErrs counts the errors found while reading rows. They arrive in
	// line order, so once maxRowErrors are kept, later ones cannot be
	// among the first maxRowErrors by line and are only counted.
	rowErrs int
	// fatal, if not nil, is why reading stopped before the end. It is
	// always listed, last.
	fatal *RowError
	// next is the line after the last row read: where a row too long to
	// read starts, blank lines aside.
	next int
}

// ended notes where the row just read, rec, ended.
func (p *directoryParser) ended(cr *csv.Reader, rec []string) {
	last := len(rec) - 1
	line, _ := cr.FieldPos(last)
	p.next = line + strings.Count(rec[last], "\n") + 1
}

// rowLines remembers where a row's id and manager fields were, for the
// checks made after the whole file is read.
type rowLines struct {
	id, manager, email, username int
}

func (p *directoryParser) add(line int, field, msg string) {
	p.nerrs++
	p.errs = append(p.errs, RowError{Line: line, Field: field, Msg: msg})
}

// stop records why reading stops before the end of the file.
func (p *directoryParser) stop(line int, msg string) {
	p.nerrs++
	p.fatal = &RowError{Line: line, Msg: msg}
}

// error returns the errors found, in line order, as a *DirectoryError.
func (p *directoryParser) error() *DirectoryError {
	slices.SortStableFunc(p.errs, func(a, b RowError) int { return a.Line - b.Line })
	keep := maxRowErrors
	if p.fatal != nil {
		keep--
	}
	e := &DirectoryError{Rows: p.errs[:min(keep, len(p.errs))]}
	if p.fatal != nil {
		e.Rows = append(e.Rows, *p.fatal)
	}
	e.More = p.nerrs - len(e.Rows)
	return e
}

// addRow records an error found while reading rows (see rowErrs).
func (p *directoryParser) addRow(line int, field, msg string) {
	p.rowErrs++
	if p.rowErrs > maxRowErrors {
		p.nerrs++
		return
	}
	p.add(line, field, msg)
}

// readError handles an error from csv.Reader.Read: a row-level CSV syntax
// error (reading goes on), a bound exceeded (reading stops), or an I/O
// error (returned).
func (p *directoryParser) readError(err error) (fatal bool, _ error) {
	var le *lineTooLongError
	var pe *csv.ParseError
	switch {
	case errors.As(err, &le):
		line := le.line
		if le.row {
			line = p.next
		}
		p.stop(line, le.msg())
		return true, nil
	case errors.As(err, &pe):
		p.next = pe.Line + 1
		p.addRow(pe.Line, "", fmt.Sprintf("%v (column %d)", pe.Err, pe.Column))
		return false, nil
	}
	return true, fmt.Errorf("reading directory: %w", err)
}

func (p *directoryParser) readHeader(cr *csv.Reader, lim *lineLimiter) error {
	rec, err := cr.Read()
	lim.mark = cr.InputOffset()
	if err == io.EOF {
		p.add(0, "", "empty file (want a header row naming the columns, then one row per person)")
		return nil
	}
	if err != nil {
		if _, err := p.readError(err); err != nil {
			return err
		}
		return nil
	}
	line, _ := cr.FieldPos(0)
	p.ended(cr, rec)
	for i := range p.cols {
		p.cols[i] = -1
	}
	p.width = len(rec)
	for i, name := range rec {
		name = strings.ToLower(strings.TrimSpace(name))
		c := slices.Index(directoryColumns, name)
		switch {
		case name == "":
			p.add(line, "", fmt.Sprintf("column %d has no name", i+1))
		case c < 0:
			p.add(line, safetext.Quote(name), "unknown column (want "+strings.Join(directoryColumns, ", ")+")")
		case p.cols[c] >= 0:
			p.add(line, name, fmt.Sprintf("repeated column (columns %d and %d)", p.cols[c]+1, i+1))
		default:
			p.cols[c] = i
		}
	}
	for _, c := range []int{colID, colName} {
		if p.cols[c] < 0 {
			p.add(line, directoryColumns[c], "missing column")
		}
	}
	return nil
}

// row checks one record and, whatever its errors, adds its person so that
// later rows can be checked against its id.
func (p *directoryParser) row(cr *csv.Reader, rec []string) {
	line, _ := cr.FieldPos(0)
	if len(rec) != p.width {
		p.addRow(line, "", fmt.Sprintf("has %d fields, the header %d", len(rec), p.width))
		// Keep a good id, so that rows naming it as their manager are
		// not refused too.
		var ps store.Person
		if i := p.cols[colID]; i < len(rec) && checkDirectoryID(strings.TrimSpace(rec[i])) == "" {
			ps.ID = strings.TrimSpace(rec[i])
		}
		p.push(ps, rowLines{id: line, manager: line, email: line, username: line})
		return
	}
	// field returns column c's value and line.
	field := func(c int) (string, int) {
		i := p.cols[c]
		if i < 0 {
			return "", line
		}
		l, _ := cr.FieldPos(i)
		return strings.TrimSpace(rec[i]), l
	}
	bad := func(l, c int, format string, args ...any) {
		p.addRow(l, directoryColumns[c], fmt.Sprintf(format, args...))
	}

	var ps store.Person
	var lines rowLines
	var l int

	ps.ID, l = field(colID)
	lines.id = l
	if msg := checkDirectoryID(ps.ID); msg != "" {
		bad(l, colID, "%s", msg)
		ps.ID = "" // not a reference target, nor a duplicate
	}

	ps.Name, l = field(colName)
	if ps.Name == "" {
		bad(l, colName, "missing")
	} else if msg := checkText(ps.Name, maxNameLen); msg != "" {
		bad(l, colName, "%s", msg)
	}
	ps.Number, l = field(colNumber)
	if msg := checkText(ps.Number, maxNumberLen); msg != "" {
		bad(l, colNumber, "%s", msg)
	}
	ps.Unit, l = field(colUnit)
	if msg := checkText(ps.Unit, maxUnitLen); msg != "" {
		bad(l, colUnit, "%s", msg)
	}

	ps.Manager, l = field(colManager)
	lines.manager = l
	if ps.Manager != "" {
		if msg := checkDirectoryID(ps.Manager); msg != "" {
			bad(l, colManager, "%s", msg)
			ps.Manager = ""
		} else if ps.Manager == ps.ID {
			bad(l, colManager, "is the person themselves")
			ps.Manager = ""
		}
	}

	var rankLine int
	ps.Rank, rankLine = field(colRank)
	if _, err := ParseRank(ps.Rank); err != nil {
		bad(rankLine, colRank, "%v", err)
	}
	ps.Grade, l = field(colGrade)
	if ps.Grade != "" {
		if _, ok := p.grades.Rank(ps.Grade); !ok {
			bad(l, colGrade, "unknown grade %q (not in the grade map)", ps.Grade)
		} else if ps.Rank != "" {
			bad(l, colGrade, "a person has a rank or a grade, not both (rank %q)", ps.Rank)
		}
	}

	roles, rolesLine := field(colRoles)
	ps.Roles = []string{string(RoleStaff)}
	if roles != "" {
		for s := range strings.SplitSeq(roles, ";") {
			s = strings.TrimSpace(s)
			if s == "" {
				bad(rolesLine, colRoles, "empty role in %q (separate roles with ';')", roles)
				continue
			}
			r, err := ParseRole(s)
			if err != nil {
				bad(rolesLine, colRoles, "%v", err)
				continue
			}
			ps.Roles = append(ps.Roles, string(r))
		}
		slices.Sort(ps.Roles)
		ps.Roles = slices.Compact(ps.Roles)
	}

	ps.Adviser, l = field(colAdviser)
	if err := CheckAdviser(ps.Adviser); err != nil {
		bad(l, colAdviser, "%v", err)
	} else if ps.Adviser != "" && !adviserAllowed(ps.Adviser, ps.Roles) {
		if ps.Adviser == AdviserDPO {
			bad(l, colAdviser, "kind %q needs the role \"adviser\" or \"dpo\"", ps.Adviser)
		} else {
			bad(l, colAdviser, "kind %q needs the role \"adviser\"", ps.Adviser)
		}
	}

	leftOn, l := field(colLeftOn)
	if leftOn != "" {
		t, err := time.Parse(leftOnLayout, leftOn)
		if err != nil {
			bad(l, colLeftOn, "%q is not a date YYYY-MM-DD", leftOn)
		} else {
			ps.LeftOn = t.UTC()
		}
	}

	var emails string
	emails, lines.email = field(colEmail)
	if emails != "" {
		list := strings.FieldsFunc(emails, func(r rune) bool { return r == ';' || unicode.IsSpace(r) })
		ok := true
		for _, e := range list {
			if err := store.CheckEmail(e); err != nil {
				bad(lines.email, colEmail, "%v", err)
				ok = false
			}
		}
		ps.Emails = store.CleanEmails(list)
		if len(ps.Emails) > store.MaxEmails {
			bad(lines.email, colEmail, "%d addresses, more than %d", len(ps.Emails), store.MaxEmails)
			ok = false
		}
		if !ok {
			ps.Emails = nil // not compared with other rows'
		}
	}
	ps.Username, lines.username = field(colUsername)
	if ps.Username != "" {
		if err := store.CheckUsername(ps.Username); err != nil {
			bad(lines.username, colUsername, "%v", err)
			ps.Username = ""
		}
		ps.Username = strings.ToLower(ps.Username)
	}

	p.push(ps, lines)
}

// chunkSize is how many people a chunk holds. Growing one slice of
// people by append would allocate about five times its final size.
const chunkSize = 1024

// push adds a row's person.
func (p *directoryParser) push(ps store.Person, l rowLines) {
	if len(p.chunks) == 0 || len(p.chunks[len(p.chunks)-1]) == chunkSize {
		p.chunks = append(p.chunks, make([]store.Person, 0, chunkSize))
	}
	c := &p.chunks[len(p.chunks)-1]
	*c = append(*c, ps)
	p.lines = append(p.lines, l)
	p.n++
}

// flatten sets people to the rows' people, in order.
func (p *directoryParser) flatten() {
	p.people = make([]store.Person, 0, p.n)
	for _, c := range p.chunks {
		p.people = append(p.people, c...)
	}
	p.chunks = nil
}

// adviserAllowed reports whether a person with roles may be an adviser of
// kind (see ParseDirectory).
func adviserAllowed(kind string, roles []string) bool {
	if slices.Contains(roles, string(RoleAdviser)) {
		return true
	}
	return kind == AdviserDPO && slices.Contains(roles, string(RoleDPO))
}

// checkManagers checks what needs the whole file: unique ids, e-mail
// addresses and usernames, managers that exist, and no loops of managers.
func (p *directoryParser) checkManagers() {
	index := make(map[string]int, len(p.people))  // id to first row
	emails := make(map[string]int, len(p.people)) // address to first row
	usernames := make(map[string]int)             // username to first row
	for i, ps := range p.people {
		if _, ok := index[ps.ID]; !ok && ps.ID != "" {
			index[ps.ID] = i
		}
		for _, e := range ps.Emails {
			if _, ok := emails[e]; !ok {
				emails[e] = i
			}
		}
		if _, ok := usernames[ps.Username]; !ok && ps.Username != "" {
			usernames[ps.Username] = i
		}
	}

	// Find the loops, walking each chain of managers once: state 1 is on
	// the current walk, 2 is done; reaching a state-1 person again closes
	// a loop. Each loop is reported once, on the row of its first member.
	loops := make(map[int][]int) // first member to the loop
	state := make([]uint8, len(p.people))
	var walk []int
	for i := range p.people {
		walk = walk[:0]
		j, ok := i, true
		for ok && state[j] == 0 {
			state[j] = 1
			walk = append(walk, j)
			j, ok = index[p.people[j].Manager]
		}
		if ok && state[j] == 1 {
			loop := slices.Clone(walk[slices.Index(walk, j):])
			loops[slices.Min(loop)] = loop
		}
		for _, k := range walk {
			state[k] = 2
		}
	}

	// Report row by row, so that errors come in line order (near enough:
	// the fields of a row spanning lines may be in any order) and only
	// the first maxRowErrors need keeping; see rowErrs.
	n := 0
	bad := func(line int, c int, msg func() string) {
		n++
		if n > maxRowErrors {
			p.nerrs++
			return
		}
		p.add(line, directoryColumns[c], msg())
	}
	for i, ps := range p.people {
		if j := index[ps.ID]; ps.ID != "" && j != i {
			bad(p.lines[i].id, colID, func() string { return fmt.Sprintf("duplicate of line %d", p.lines[j].id) })
		}
		if _, ok := index[ps.Manager]; ps.Manager != "" && !ok {
			bad(p.lines[i].manager, colManager, func() string { return fmt.Sprintf("no row has id %q", ps.Manager) })
		}
		if loop, ok := loops[i]; ok {
			bad(p.lines[i].manager, colManager, func() string { return "managers form a loop: " + formatLoop(p.people, loop) })
		}
		for _, e := range ps.Emails {
			if j := emails[e]; j != i {
				bad(p.lines[i].email, colEmail, func() string { return fmt.Sprintf("%s is also the address of line %d", e, p.lines[j].email) })
			}
		}
		if j, ok := usernames[ps.Username]; ok && j != i {
			bad(p.lines[i].username, colUsername, func() string {
				return fmt.Sprintf("%q is also the username of line %d", ps.Username, p.lines[j].username)
			})
		}
	}
}

// formatLoop writes a loop of managers from its first member in the file,
// e.g. `"A" -> "B" -> "A"`, shortened when long.
func formatLoop(people []store.Person, loop []int) string {
	const maxShown = 8
	first := slices.Min(loop)
	at := slices.Index(loop, first)
	var ids []string
	for k := range loop {
		if k == maxShown {
			ids = append(ids, fmt.Sprintf("… (%d more)", len(loop)-maxShown))
			break
		}
		ids = append(ids, strconv.Quote(people[loop[(at+k)%len(loop)]].ID))
	}
	ids = append(ids, strconv.Quote(people[first].ID))
	return strings.Join(ids, " -> ")
}

// checkDirectoryID returns what is wrong with a person id, or "".
func checkDirectoryID(id string) string {
	if id == "" {
		return "missing"
	}
	ok := len(id) <= maxIDLen && isAlnum(id[0])
	for i := 1; ok && i < len(id); i++ {
		c := id[i]
		ok = isAlnum(c) || c == '.' || c == '_' || c == '-'
	}
	if !ok {
		return fmt.Sprintf("%q is not an id (want 1-64 ASCII letters, digits, '.', '_' or '-', starting with a letter or digit)", id)
	}
	return ""
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// checkText returns what is wrong with a text field of at most max
// characters, or "".
func checkText(s string, max int) string {
	if !utf8.ValidString(s) {
		return "not valid UTF-8"
	}
	n := 0
	for _, r := range s {
		n++
		if safetext.Hidden(r) {
			return fmt.Sprintf("contains the control or formatting character %U", r)
		}
	}
	if n > max {
		return fmt.Sprintf("longer than %d characters", max)
	}
	return ""
}

// FormatDirectory writes ps as a directory file that ParseDirectory reads
// back: the header (all columns, in the order of the package example),
// then one row per person in the order given, roles and e-mail addresses
// joined with ';' and left_on as a date. It does not check ps: a person ParseDirectory would
// refuse is written as it is, and a LeftOn that is not UTC midnight loses
// its time of day.
func FormatDirectory(w io.Writer, ps []store.Person) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(directoryColumns); err != nil {
		return err
	}
	rec := make([]string, numColumns)
	for _, p := range ps {
		rec[colID] = p.ID
		rec[colName] = p.Name
		rec[colNumber] = p.Number
		rec[colUnit] = p.Unit
		rec[colManager] = p.Manager
		rec[colRank] = p.Rank
		rec[colGrade] = p.Grade
		rec[colRoles] = strings.Join(p.Roles, ";")
		rec[colAdviser] = p.Adviser
		rec[colLeftOn] = ""
		if !p.LeftOn.IsZero() {
			rec[colLeftOn] = p.LeftOn.UTC().Format(leftOnLayout)
		}
		rec[colEmail] = strings.Join(p.Emails, ";")
		rec[colUsername] = p.Username
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// lineLimiter bounds the lines csv.Reader reads, which it otherwise
// buffers whole however long they are. It refuses a physical line over
// MaxDirectoryLine bytes exactly, and a row spanning several lines once
// the bytes read since the end of the last row (mark, kept by the parser)
// pass MaxDirectoryLine plus what the read buffer may hold ahead.
type lineLimiter struct {
	r       io.Reader
	line    int   // 0-based physical line of the next byte
	n       int   // bytes of that line read so far
	total   int64 // bytes read, after skipped
	skipped int   // bytes of a byte order mark, which csv does not count
	mark    int64 // csv.Reader.InputOffset at the end of the last row
	err     error
}

// lineTooLongError is a line or row over MaxDirectoryLine.
type lineTooLongError struct {
	line int  // 1-based
	row  bool // a row spanning lines; line is where the limit was hit
}

func (e *lineTooLongError) Error() string { return e.msg() }

func (e *lineTooLongError) msg() string {
	if e.row {
		return fmt.Sprintf("row longer than %d bytes", MaxDirectoryLine)
	}
	return fmt.Sprintf("line longer than %d bytes", MaxDirectoryLine)
}

func (l *lineLimiter) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	b := p[:n]
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		end := i
		if i < 0 {
			end = len(b)
		}
		if l.n+end > MaxDirectoryLine {
			// Hand over the line's first MaxDirectoryLine bytes, then fail.
			keep := n - len(b) + MaxDirectoryLine - l.n
			l.err = &lineTooLongError{line: l.line + 1}
			l.total += int64(keep)
			return keep, l.err
		}
		if i < 0 {
			l.n += len(b)
			break
		}
		l.line++
		l.n = 0
		b = b[i+1:]
	}
	l.total += int64(n)
	if l.total-int64(l.skipped)-l.mark > MaxDirectoryLine+readBufferSize+1 {
		l.err = &lineTooLongError{line: l.line + 1, row: true}
		return n, l.err
	}
	return n, err
}
