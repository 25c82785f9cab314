package identity

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/lbm-project/lbm/internal/store"

	"github.com/lbm-project/lbm/internal/safetext"
)

const header = "id,name,number,unit,manager,rank,grade,roles,adviser,left_on,email,username\n"

var testGrades = GradeMap{"band_e": Constable, "band_c": Sergeant, "sps_1": Superintendent}

// staff is a person with only the fields every row has.
func staff(id, name string) store.Person {
	return store.Person{ID: id, Name: name, Roles: []string{"staff"}}
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestParseDirectory(t *testing.T) {
	with := func(p store.Person, f func(*store.Person)) store.Person { f(&p); return p }
	for _, c := range []struct {
		name string
		in   string
		want []store.Person
	}{
		{"minimal", "id,name\nA1,Ann\n", []store.Person{staff("A1", "Ann")}},
		{"all columns", header + "A1,Ann Lee,4711,PSD,,superintendent,,authoriser;investigator,,2024-03-31,ann.lee@force.example,alee\nB2,Bo,,PSD,A1,,band_c,,,,,\n", []store.Person{
			{ID: "A1", Name: "Ann Lee", Number: "4711", Unit: "PSD", Rank: "superintendent", Roles: []string{"authoriser", "investigator", "staff"}, LeftOn: date(2024, 3, 31),
				Emails: []string{"ann.lee@force.example"}, Username: "alee"},
			{ID: "B2", Name: "Bo", Unit: "PSD", Manager: "A1", Grade: "band_c", Roles: []string{"staff"}},
		}},
		{"emails cleaned", "id,name,email,username\nA1,Ann,\" Ann.Lee@Force.example; a.lee@force.example ann.lee@force.example;\",ALee\n", []store.Person{
			with(staff("A1", "Ann"), func(p *store.Person) {
				p.Emails, p.Username = []string{"a.lee@force.example", "ann.lee@force.example"}, "alee"
			}),
		}},
		{"an address may be anyone's once", "id,name,email\nA1,Ann,ann@force.example\nB2,Bo,bo@force.example;ann@alias.example\n", []store.Person{
			with(staff("A1", "Ann"), func(p *store.Person) { p.Emails = []string{"ann@force.example"} }),
			with(staff("B2", "Bo"), func(p *store.Person) { p.Emails = []string{"ann@alias.example", "bo@force.example"} }),
		}},
		{"any column order, any case", "Left_On, ROLES ,name,Id\n2025-01-01,oversight,Ann,a.b_c-D9\n", []store.Person{
			with(staff("a.b_c-D9", "Ann"), func(p *store.Person) { p.Roles = []string{"oversight", "staff"}; p.LeftOn = date(2025, 1, 1) }),
		}},
		{"file order kept", "id,name\nC,Cy\nA,Al\nB,Bo\n", []store.Person{staff("C", "Cy"), staff("A", "Al"), staff("B", "Bo")}},
		{"spaces trimmed", "id , name,rank\n  A1 ,\t Ann Lee  , constable \n", []store.Person{with(staff("A1", "Ann Lee"), func(p *store.Person) { p.Rank = "constable" })}},
		{"quoted fields trimmed", "id,name\n \" A1 \",\"  Ann \"\n", []store.Person{staff("A1", "Ann")}},
		{"byte order mark", "\uFEFFid,name\nA1,Ann\n", []store.Person{staff("A1", "Ann")}},
		{"CRLF", "id,name\r\nA1,Ann\r\nB2,Bo\r\n", []store.Person{staff("A1", "Ann"), staff("B2", "Bo")}},
		{"no final newline", "id,name\nA1,Ann", []store.Person{staff("A1", "Ann")}},
		{"blank lines skipped", "\nid,name\n\nA1,Ann\n\n\nB2,Bo\n", []store.Person{staff("A1", "Ann"), staff("B2", "Bo")}},
		{"quoted commas and quotes", "id,name,unit\nA1,\"Lee, Ann \"\"Annie\"\"\",\"Lewisham, Catford\"\n", []store.Person{
			with(staff("A1", `Lee, Ann "Annie"`), func(p *store.Person) { p.Unit = "Lewisham, Catford" }),
		}},
		{"longest fields", "id,name,number,unit\n" + strings.Repeat("a", 64) + "," + strings.Repeat("é", 200) + "," + strings.Repeat("9", 64) + "," + strings.Repeat("ü", 200) + "\n", []store.Person{
			with(staff(strings.Repeat("a", 64), strings.Repeat("é", 200)), func(p *store.Person) { p.Number = strings.Repeat("9", 64); p.Unit = strings.Repeat("ü", 200) }),
		}},
		{"joiners in names are letters", "id,name\nA1,क्\u200dष\nA2,می\u200cخواهم\n", []store.Person{staff("A1", "क्\u200dष"), staff("A2", "می\u200cخواهم")}},
		{"manager later in the file", "id,name,manager\nA1,Ann,B2\nB2,Bo,\n", []store.Person{
			with(staff("A1", "Ann"), func(p *store.Person) { p.Manager = "B2" }), staff("B2", "Bo"),
		}},
		{"chain of managers", "id,name,manager\nA,Al,B\nB,Bo,C\nC,Cy,\nD,Di,B\n", []store.Person{
			with(staff("A", "Al"), func(p *store.Person) { p.Manager = "B" }),
			with(staff("B", "Bo"), func(p *store.Person) { p.Manager = "C" }),
			staff("C", "Cy"),
			with(staff("D", "Di"), func(p *store.Person) { p.Manager = "B" }),
		}},
		{"roles sorted, unique, with staff", "id,name,roles\nA1,Ann, investigator ;admin;investigator;staff\n", []store.Person{
			with(staff("A1", "Ann"), func(p *store.Person) { p.Roles = []string{"admin", "investigator", "staff"} }),
		}},
		{"empty roles are staff", "id,name,roles\nA1,Ann,\n", []store.Person{staff("A1", "Ann")}},
		{"adviser with role adviser", "id,name,roles,adviser\nA,Al,adviser,legal\nB,Bo,adviser,ethics\nC,Cy,adviser,dpo\n", []store.Person{
			with(staff("A", "Al"), func(p *store.Person) { p.Roles = []string{"adviser", "staff"}; p.Adviser = "legal" }),
			with(staff("B", "Bo"), func(p *store.Person) { p.Roles = []string{"adviser", "staff"}; p.Adviser = "ethics" }),
			with(staff("C", "Cy"), func(p *store.Person) { p.Roles = []string{"adviser", "staff"}; p.Adviser = "dpo" }),
		}},
		{"dpo adviser with role dpo", "id,name,roles,adviser\nA,Al,dpo,dpo\n", []store.Person{
			with(staff("A", "Al"), func(p *store.Person) { p.Roles = []string{"dpo", "staff"}; p.Adviser = "dpo" }),
		}},
		{"grade", "id,name,grade\nA,Al,sps_1\n", []store.Person{with(staff("A", "Al"), func(p *store.Person) { p.Grade = "sps_1" })}},
		{"leap day", "id,name,left_on\nA,Al,2024-02-29\n", []store.Person{with(staff("A", "Al"), func(p *store.Person) { p.LeftOn = date(2024, 2, 29) })}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseDirectory(strings.NewReader(c.in), testGrades)
			if err != nil {
				t.Fatalf("ParseDirectory(%q) = %v", c.in, err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("ParseDirectory(%q) (-want +got):\n%s", c.in, diff)
			}
			for _, p := range got {
				if p.LeftOn.Location() != time.UTC {
					t.Errorf("ParseDirectory(%q): LeftOn %v not in UTC", c.in, p.LeftOn)
				}
			}
		})
	}
}

func TestParseDirectoryErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		want []string // each row of the error starts with one, in order
	}{
		// Header and shape.
		{"empty file", "", []string{"empty file"}},
		{"blank file", "\n\n", []string{"empty file"}},
		{"only a BOM", "\uFEFF", []string{"empty file"}},
		{"no rows", "id,name\n", []string{"no people: the file has a header but no rows"}},
		{"unknown column", "id,name,mail\nA,Al,a@example.org\n", []string{"line 1: mail: unknown column (want id, name, number, unit, manager, rank, grade, roles, adviser, left_on, email, username)"}},
		{"unknown column with escapes", "id,name,\"\x1b[2J\"\nA,Al,x\n", []string{`line 1: "\x1b[2j": unknown column`}},
		{"unknown column with a space", "id,name,e mail\nA,Al,x\n", []string{`line 1: "e mail": unknown column`}},
		{"repeated column", "id,name,Name\nA,Al,Al\n", []string{"line 1: name: repeated column (columns 2 and 3)"}},
		{"missing id", "name,rank\nAl,constable\n", []string{"line 1: id: missing column"}},
		{"missing name", "id\nA\n", []string{"line 1: name: missing column"}},
		{"unnamed column", "id,,name\nA,,Al\n", []string{"line 1: column 2 has no name"}},
		{"header after blank lines", "\n\nid,nom\n", []string{"line 3: nom: unknown column", "line 3: name: missing column"}},
		{"too few fields", "id,name,unit\nA,Al\nB,Bo,PSD\n", []string{"line 2: has 2 fields, the header 3"}},
		{"too many fields", "id,name\nA,Al,x\n", []string{"line 2: has 3 fields, the header 2"}},
		{"short row still a manager", "id,name,manager\nA,Al\nB,Bo,A\nA,Al,\n", []string{"line 2: has 2 fields, the header 3", "line 4: id: duplicate of line 2"}},
		{"bare quote", "id,name\nA,Al \"x\"\nB,Bo,,\n", []string{`line 2: bare " in non-quoted-field (column 6)`, "line 3: has 4 fields, the header 2"}},
		{"unterminated quote", "id,name\nA,\"Al\nB,Bo\n", []string{`line 3: extraneous or missing " in quoted-field (column 6)`}},
		{"extra quote", "id,name\nA,\"Al\"x\nB,Bo\n", []string{`line 2: extraneous or missing " in quoted-field (column 6)`}},

		// id
		{"id missing", "id,name\n,Al\n", []string{"line 2: id: missing"}},
		{"id leading dash", "id,name\n-A,Al\n", []string{`line 2: id: "-A" is not an id (want 1-64 ASCII letters, digits, '.', '_' or '-', starting with a letter or digit)`}},
		{"id leading dot", "id,name\n.A,Al\n", []string{`line 2: id: ".A" is not an id`}},
		{"id space", "id,name\nA B,Al\n", []string{`line 2: id: "A B" is not an id`}},
		{"id slash", "id,name\nA/B,Al\n", []string{`line 2: id: "A/B" is not an id`}},
		{"id non-ASCII", "id,name\nÉ1,Al\n", []string{`line 2: id: "É1" is not an id`}},
		{"id too long", "id,name\n" + strings.Repeat("a", 65) + ",Al\n", []string{`line 2: id: "` + strings.Repeat("a", 65) + `" is not an id`}},
		{"id duplicate", "id,name\nA,Al\nB,Bo\nA,Al again\nA,Al thrice\n", []string{"line 4: id: duplicate of line 2", "line 5: id: duplicate of line 2"}},
		{"id duplicate of a bad row", "id,name\nA,\nA,Al\n", []string{"line 2: name: missing", "line 3: id: duplicate of line 2"}},

		// name, number, unit
		{"name missing", "id,name\nA,\n", []string{"line 2: name: missing"}},
		{"name blank", "id,name\nA, \t \n", []string{"line 2: name: missing"}},
		{"name too long", "id,name\nA," + strings.Repeat("é", 201) + "\n", []string{"line 2: name: longer than 200 characters"}},
		{"name not UTF-8", "id,name\nA,Al\xff\n", []string{"line 2: name: not valid UTF-8"}},
		{"name control", "id,name\nA,Al\x07x\n", []string{"line 2: name: contains the control or formatting character U+0007"}},
		{"name tab", "id,name\nA,Al\tx\n", []string{"line 2: name: contains the control or formatting character U+0009"}},
		{"name DEL", "id,name\nA,Al\x7f\n", []string{"line 2: name: contains the control or formatting character U+007F"}},
		{"name C1 control", "id,name\nA,Al\u0085x\n", []string{"line 2: name: contains the control or formatting character U+0085"}},
		{"name bidi override", "id,name\nA,Al\u202ex\n", []string{"line 2: name: contains the control or formatting character U+202E"}},
		{"name bidi isolate", "id,name\nA,Al\u2067x\n", []string{"line 2: name: contains the control or formatting character U+2067"}},
		{"name line separator", "id,name\nA,Al\u2028x\n", []string{"line 2: name: contains the control or formatting character U+2028"}},
		{"name zero-width space", "id,name\nA,\u200b\n", []string{"line 2: name: contains the control or formatting character U+200B"}},
		{"name soft hyphen", "id,name\nA,Al\u00adx\n", []string{"line 2: name: contains the control or formatting character U+00AD"}},
		{"name tag character", "id,name\nA,Al\U000E0041\n", []string{"line 2: name: contains the control or formatting character U+E0041"}},
		{"name inner BOM", "id,name\nA,Al\uFEFFx\n", []string{"line 2: name: contains the control or formatting character U+FEFF"}},
		{"BOM not at the start", "\n\uFEFFid,name\nA,Al\n", []string{`line 2: "\ufeffid": unknown column`, "line 2: id: missing column"}},
		{"number too long", "id,name,number\nA,Al," + strings.Repeat("1", 65) + "\n", []string{"line 2: number: longer than 64 characters"}},
		{"number control", "id,name,number\nA,Al,1\x002\n", []string{"line 2: number: contains the control or formatting character U+0000"}},
		{"unit too long", "id,name,unit\nA,Al," + strings.Repeat("u", 201) + "\n", []string{"line 2: unit: longer than 200 characters"}},
		{"unit not UTF-8", "id,name,unit\nA,Al,\xc3\n", []string{"line 2: unit: not valid UTF-8"}},

		// manager
		{"manager not an id", "id,name,manager\nA,Al,B B\nB,Bo,\n", []string{`line 2: manager: "B B" is not an id`}},
		{"manager self", "id,name,manager\nA,Al,A\n", []string{"line 2: manager: is the person themselves"}},
		{"manager missing", "id,name,manager\nA,Al,\nB,Bo,Z\n", []string{`line 3: manager: no row has id "Z"`}},
		{"manager is a bad id's row", "id,name,manager\n-A,Al,\nB,Bo,-A\n", []string{`line 2: id: "-A" is not an id`, `line 3: manager: "-A" is not an id`}},
		{"manager case differs", "id,name,manager\nA,Al,\nB,Bo,a\n", []string{`line 3: manager: no row has id "a"`}},
		{"managers loop", "id,name,manager\nX,Xi,\nA,Al,B\nB,Bo,A\nC,Cy,A\n", []string{`line 3: manager: managers form a loop: "A" -> "B" -> "A"`}},
		{"managers loop found late", "id,name,manager\nD,Di,B\nC,Cy,A\nB,Bo,C\nA,Al,B\n", []string{`line 3: manager: managers form a loop: "C" -> "A" -> "B" -> "C"`}},
		{"two loops", "id,name,manager\nA,Al,B\nB,Bo,A\nC,Cy,D\nD,Di,C\n", []string{
			`line 2: manager: managers form a loop: "A" -> "B" -> "A"`,
			`line 4: manager: managers form a loop: "C" -> "D" -> "C"`,
		}},
		{"long loop", "id,name,manager\n" + func() string {
			var b strings.Builder
			for i := range 10 {
				fmt.Fprintf(&b, "P%d,N,P%d\n", i, (i+1)%10)
			}
			return b.String()
		}(), []string{`line 2: manager: managers form a loop: "P0" -> "P1" -> "P2" -> "P3" -> "P4" -> "P5" -> "P6" -> "P7" -> … (2 more) -> "P0"`}},

		// rank and grade
		{"rank unknown", "id,name,rank\nA,Al,captain\n", []string{`line 2: rank: unknown rank "captain" (want one of constable,`}},
		{"rank title case", "id,name,rank\nA,Al,Chief Inspector\n", []string{`line 2: rank: unknown rank "Chief Inspector"`}},
		{"grade unknown", "id,name,grade\nA,Al,band_z\n", []string{`line 2: grade: unknown grade "band_z" (not in the grade map)`}},
		{"grade is a rank", "id,name,grade\nA,Al,constable\n", []string{`line 2: grade: unknown grade "constable"`}},
		{"rank and grade", "id,name,rank,grade\nA,Al,constable,band_e\n", []string{`line 2: grade: a person has a rank or a grade, not both (rank "constable")`}},

		// roles and adviser
		{"role unknown", "id,name,roles\nA,Al,superuser\n", []string{`line 2: roles: unknown role "superuser"`}},
		{"role source", "id,name,roles\nA,Al,source\n", []string{`line 2: roles: unknown role "source"`}},
		{"role title case", "id,name,roles\nA,Al,Investigator\n", []string{`line 2: roles: unknown role "Investigator"`}},
		{"roles comma-separated", "id,name,roles\nA,Al,\"admin,dpo\"\n", []string{`line 2: roles: unknown role "admin,dpo"`}},
		{"roles empty part", "id,name,roles\nA,Al,admin;\n", []string{`line 2: roles: empty role in "admin;" (separate roles with ';')`}},
		{"roles only separators", "id,name,roles\nA,Al,;\n", []string{`line 2: roles: empty role in ";"`, `line 2: roles: empty role in ";"`}},
		{"adviser unknown", "id,name,roles,adviser\nA,Al,adviser,medical\n", []string{`line 2: adviser: unknown adviser kind "medical" (want legal, dpo or ethics)`}},
		{"adviser without role", "id,name,roles,adviser\nA,Al,,legal\n", []string{`line 2: adviser: kind "legal" needs the role "adviser"`}},
		{"ethics adviser with role dpo", "id,name,roles,adviser\nA,Al,dpo,ethics\n", []string{`line 2: adviser: kind "ethics" needs the role "adviser"`}},
		{"dpo adviser without role", "id,name,roles,adviser\nA,Al,investigator,dpo\n", []string{`line 2: adviser: kind "dpo" needs the role "adviser" or "dpo"`}},

		// left_on
		{"left_on short month", "id,name,left_on\nA,Al,2024-3-31\n", []string{`line 2: left_on: "2024-3-31" is not a date YYYY-MM-DD`}},
		{"left_on no such day", "id,name,left_on\nA,Al,2023-02-29\n", []string{`line 2: left_on: "2023-02-29" is not a date YYYY-MM-DD`}},
		{"left_on British", "id,name,left_on\nA,Al,31/03/2024\n", []string{`line 2: left_on: "31/03/2024" is not a date YYYY-MM-DD`}},
		{"left_on with time", "id,name,left_on\nA,Al,2024-03-31T00:00:00Z\n", []string{`line 2: left_on: "2024-03-31T00:00:00Z" is not a date YYYY-MM-DD`}},

		// email and username
		{"email no @", "id,name,email\nA,Al,al.example.org\n", []string{`line 2: email: "al.example.org" is not an address (want one '@')`}},
		{"email two @", "id,name,email\nA,Al,al@x@example.org\n", []string{`line 2: email: "al@x@example.org" is not an address (want one '@')`}},
		{"email no local part", "id,name,email\nA,Al,@example.org\n", []string{`line 2: email: "@example.org" is not an address (want text either side of '@')`}},
		{"email no domain", "id,name,email\nA,Al,al@\n", []string{`line 2: email: "al@" is not an address (want text either side of '@')`}},
		{"email control", "id,name,email\nA,Al,al\x01@example.org\n", []string{`line 2: email: "al\x01@example.org" holds a space or control character`}},
		{"email comma-separated", "id,name,email\nA,Al,\"a@x.org,b@x.org\"\n", []string{`line 2: email: "a@x.org,b@x.org" is not an address (want one '@')`}},
		{"email too long", "id,name,email\nA,Al," + strings.Repeat("a", 250) + "@x.org\n", []string{"line 2: email: longer than 254 bytes"}},
		{"email too many", "id,name,email\nA,Al," + func() string {
			var es []string
			for i := range 17 {
				es = append(es, fmt.Sprintf("a%d@x.org", i))
			}
			return strings.Join(es, ";")
		}() + "\n", []string{"line 2: email: 17 addresses, more than 16"}},
		{"email in two rows", "id,name,email\nA,Al,a@x.org;al@x.org\nB,Bo,b@x.org\nC,Cy,AL@X.ORG\n", []string{"line 4: email: al@x.org is also the address of line 2"}},
		{"username with a space", "id,name,username\nA,Al,a l\n", []string{`line 2: username: "a l" holds a space or a character that does not print`}},
		{"username too long", "id,name,username\nA,Al," + strings.Repeat("a", 65) + "\n", []string{"line 2: username: longer than 64 bytes"}},
		{"username in two rows", "id,name,username\nA,Al,jsmith\nB,Bo,JSmith\n", []string{`line 3: username: "jsmith" is also the username of line 2`}},

		// Line numbers are physical lines, past quoted newlines and
		// blank lines; a field's own line is named.
		{"line numbers after a quoted newline", "id,name,unit\nA,Al,\"Lewisham\nCatford\"\nB,Bo,x\n\nC,,x\n", []string{
			"line 2: unit: contains the control or formatting character U+000A",
			"line 6: name: missing",
		}},
		{"line of a field after a quoted newline", "id,unit,name\nA,\"Lewisham\n\nCatford\",\n", []string{
			"line 2: unit: contains the control or formatting character U+000A",
			"line 4: name: missing",
		}},
		{"CRLF line numbers", "id,name\r\nA,Al\r\n\r\nB,\r\n", []string{"line 4: name: missing"}},
		{"BOM line numbers", "\uFEFFid,name\nA,\n", []string{"line 2: name: missing"}},
		{"several errors on a row, in field order", "id,name,rank,roles,left_on\n,,x,y,z\n", []string{
			"line 2: id: missing", "line 2: name: missing", `line 2: rank: unknown rank "x"`, `line 2: roles: unknown role "y"`, `line 2: left_on: "z" is not a date`,
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseDirectory(strings.NewReader(c.in), testGrades)
			var de *DirectoryError
			if !errors.As(err, &de) {
				t.Fatalf("ParseDirectory(%q) = %v, want a *DirectoryError", c.in, err)
			}
			got := strings.Split(err.Error(), "\n")
			ok := len(got) == len(c.want)
			for i := 0; ok && i < len(got); i++ {
				ok = strings.HasPrefix(got[i], c.want[i])
			}
			if !ok {
				t.Errorf("ParseDirectory(%q) =\n%s\nwant rows starting\n%s", c.in, err, strings.Join(c.want, "\n"))
			}
		})
	}
}

// TestDirectoryErrorFields checks that the rows carry the line and field
// as values, not only in the message.
func TestDirectoryErrorFields(t *testing.T) {
	in := "id,name,rank\nA,Al,captain\n\nB,,constable\nA,Al,\n"
	_, err := ParseDirectory(strings.NewReader(in), nil)
	var de *DirectoryError
	if !errors.As(err, &de) {
		t.Fatalf("ParseDirectory(%q) = %v, want a *DirectoryError", in, err)
	}
	want := []RowError{
		{Line: 2, Field: "rank", Msg: rankError("captain")},
		{Line: 4, Field: "name", Msg: "missing"},
		{Line: 5, Field: "id", Msg: "duplicate of line 2"},
	}
	if diff := cmp.Diff(want, de.Rows); diff != "" || de.More != 0 {
		t.Errorf("ParseDirectory(%q) rows (-want +got):\n%s\nMore = %d", in, diff, de.More)
	}
}

// rankError is ParseRank's message for s.
func rankError(s string) string {
	_, err := ParseRank(s)
	return err.Error()
}

func TestParseDirectoryFiles(t *testing.T) {
	f, err := os.Open("testdata/directory/good.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := ParseDirectory(f, DefaultGradeMap())
	if err != nil {
		t.Fatalf("ParseDirectory(good.csv) = %v", err)
	}
	ids := make([]string, len(got))
	for i, p := range got {
		ids[i] = p.ID
	}
	if want := []string{"MP0001", "MP0002", "MP0003", "MP0004", "MP0005", "MP0006", "MP0007"}; !slices.Equal(ids, want) {
		t.Errorf("ParseDirectory(good.csv) ids = %v, want %v", ids, want)
	}
	if diff := cmp.Diff(store.Person{ID: "MP0005", Name: "O'Brien, Siobhan", Unit: "Information Rights", Manager: "MP0001", Grade: "sps_1", Roles: []string{"dpo", "staff"}, Adviser: "dpo"}, got[4]); diff != "" {
		t.Errorf("ParseDirectory(good.csv) row 5 (-want +got):\n%s", diff)
	}

	// bad.csv has one of most kinds of error; bad.err is its message.
	in, err := os.ReadFile("testdata/directory/bad.csv")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/directory/bad.err")
	if err != nil {
		t.Fatal(err)
	}
	_, err = ParseDirectory(bytes.NewReader(in), DefaultGradeMap())
	if err == nil || err.Error() != strings.TrimSuffix(string(want), "\n") {
		t.Errorf("ParseDirectory(bad.csv) =\n%v\nwant\n%s", err, want)
	}
}

// TestParseDirectoryReads checks that how the input arrives does not
// change the result.
func TestParseDirectoryReads(t *testing.T) {
	for _, name := range []string{"good.csv", "bad.csv"} {
		in, err := os.ReadFile(filepath.Join("testdata/directory", name))
		if err != nil {
			t.Fatal(err)
		}
		want, wantErr := ParseDirectory(bytes.NewReader(in), DefaultGradeMap())
		for _, r := range []io.Reader{
			iotest.OneByteReader(bytes.NewReader(in)),
			iotest.HalfReader(bytes.NewReader(in)),
			iotest.DataErrReader(bytes.NewReader(in)),
		} {
			got, err := ParseDirectory(r, DefaultGradeMap())
			if diff := cmp.Diff(want, got); diff != "" || fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Errorf("ParseDirectory(%T(%s)) = %v (-want +got):\n%s", r, name, err, diff)
			}
		}
	}
}

func TestParseDirectoryReadError(t *testing.T) {
	bad := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader("id,name\nA,Al\n"), iotest.ErrReader(bad))
	_, err := ParseDirectory(r, nil)
	var de *DirectoryError
	if !errors.Is(err, bad) || errors.As(err, &de) {
		t.Errorf("ParseDirectory(failing reader) = %v, want the read error", err)
	}
}

func TestParseDirectoryErrorLimit(t *testing.T) {
	// 150 rows without a name and 150 with a dangling manager,
	// interleaved: the first 100 by line are listed.
	var b strings.Builder
	b.WriteString("id,name,manager\n")
	for i := range 150 {
		fmt.Fprintf(&b, "A%d,,\nB%d,Bo,Z\n", i, i)
	}
	_, err := ParseDirectory(strings.NewReader(b.String()), nil)
	var de *DirectoryError
	if !errors.As(err, &de) {
		t.Fatalf("ParseDirectory = %v, want a *DirectoryError", err)
	}
	if len(de.Rows) != 100 || de.More != 200 {
		t.Fatalf("ParseDirectory: %d rows and %d more, want 100 and 200", len(de.Rows), de.More)
	}
	for i, r := range de.Rows {
		if r.Line != i+2 {
			t.Fatalf("ParseDirectory: row %d is line %d, want %d:\n%v", i, r.Line, i+2, err)
		}
	}
	if !strings.HasSuffix(err.Error(), "\nline 101: manager: no row has id \"Z\"\nand 200 more") {
		t.Errorf("ParseDirectory = ...%s, want it to end with the 100th row and \"and 200 more\"", err.Error()[len(err.Error())-100:])
	}
}

// TestParseDirectoryErrorLimitFatal checks that why reading stopped is
// listed even past the limit on rows listed.
func TestParseDirectoryErrorLimitFatal(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,name\n")
	for i := range 150 {
		fmt.Fprintf(&b, "A%d,\n", i)
	}
	b.WriteString(strings.Repeat("x", MaxDirectoryLine+1))
	_, err := ParseDirectory(strings.NewReader(b.String()), nil)
	var de *DirectoryError
	if !errors.As(err, &de) {
		t.Fatalf("ParseDirectory = %v, want a *DirectoryError", err)
	}
	if len(de.Rows) != 100 || de.More != 51 {
		t.Fatalf("ParseDirectory: %d rows and %d more, want 100 and 51", len(de.Rows), de.More)
	}
	if want := (RowError{Line: 100, Field: "name", Msg: "missing"}); de.Rows[98] != want {
		t.Errorf("ParseDirectory: row 99 is %v, want %v", de.Rows[98], want)
	}
	if want := (RowError{Line: 152, Msg: "line longer than 65536 bytes"}); de.Rows[99] != want {
		t.Errorf("ParseDirectory: row 100 is %v, want %v", de.Rows[99], want)
	}
}

func TestParseDirectoryBounds(t *testing.T) {
	check := func(t *testing.T, in string, want string) {
		t.Helper()
		_, err := ParseDirectory(strings.NewReader(in), nil)
		if err == nil || err.Error() != want {
			t.Errorf("ParseDirectory(%d bytes) = %v, want %q", len(in), err, want)
		}
	}
	line := func(n int) string { return "A,Al," + strings.Repeat("u", n-len("A,Al,")) }
	t.Run("longest line", func(t *testing.T) {
		check(t, "id,name,unit\n"+line(MaxDirectoryLine)+"\nB,,\n",
			"line 2: unit: longer than 200 characters\nline 3: name: missing")
	})
	t.Run("longest line CRLF", func(t *testing.T) {
		check(t, "id,name,unit\r\n"+line(MaxDirectoryLine-1)+"\r\nB,,\r\n",
			"line 2: unit: longer than 200 characters\nline 3: name: missing")
	})
	t.Run("line too long", func(t *testing.T) {
		check(t, "id,name,unit\nB,,\n"+line(MaxDirectoryLine+1)+"\nC,\n",
			"line 2: name: missing\nline 3: line longer than 65536 bytes")
	})
	t.Run("last line too long", func(t *testing.T) {
		check(t, "id,name,unit\n"+line(MaxDirectoryLine+1), "line 2: line longer than 65536 bytes")
	})
	t.Run("header too long", func(t *testing.T) {
		check(t, "id,name,"+strings.Repeat("x", MaxDirectoryLine), "line 1: line longer than 65536 bytes")
	})
	t.Run("row too long", func(t *testing.T) {
		// Short lines, but one quoted field spanning them all.
		check(t, "id,name,unit\nA,Al,\""+strings.Repeat("Lewisham\n", 10000)+"\"\n",
			"line 2: row longer than 65536 bytes")
	})
	t.Run("too many rows", func(t *testing.T) {
		defer func(n int) { testingOnlyMaxRows = n }(testingOnlyMaxRows)
		testingOnlyMaxRows = 3
		in := "id,name\nA,Al\nB,Bo\n\nC,Cy\n"
		if _, err := ParseDirectory(strings.NewReader(in), nil); err != nil {
			t.Fatalf("ParseDirectory(%q) = %v with at most 3 rows", in, err)
		}
		// Reading stops at the first row past the bound.
		check(t, in+"D,\nE,Ed,x\n", "line 6: more than 3 rows")
	})
}

func TestFormatDirectory(t *testing.T) {
	ps := []store.Person{
		{ID: "A1", Name: `Lee, Ann "Annie"`, Number: "4711", Unit: "PSD", Rank: "superintendent", Roles: []string{"authoriser", "staff"}, LeftOn: date(2024, 3, 31),
			Emails: []string{"ann.lee@force.example", "annie@force.example"}, Username: "alee"},
		{ID: "B2", Name: "Bo", Manager: "A1", Grade: "band_c", Roles: []string{"adviser", "staff"}, Adviser: "legal", Emails: []string{"bo@force.example"}},
		{ID: "C3", Name: `\.`, Roles: []string{"staff"}},
	}
	var b bytes.Buffer
	if err := FormatDirectory(&b, ps); err != nil {
		t.Fatal(err)
	}
	want := header +
		"A1,\"Lee, Ann \"\"Annie\"\"\",4711,PSD,,superintendent,,authoriser;staff,,2024-03-31,ann.lee@force.example;annie@force.example,alee\n" +
		"B2,Bo,,,A1,,band_c,adviser;staff,legal,,bo@force.example,\n" +
		"C3,\"\\.\",,,,,,staff,,,,\n"
	if got := b.String(); got != want {
		t.Errorf("FormatDirectory =\n%s\nwant\n%s", got, want)
	}
	got, err := ParseDirectory(&b, testGrades)
	if err != nil {
		t.Fatalf("ParseDirectory(FormatDirectory(ps)) = %v", err)
	}
	if diff := cmp.Diff(ps, got); diff != "" {
		t.Errorf("ParseDirectory(FormatDirectory(ps)) (-want +got):\n%s", diff)
	}
}

func TestFormatDirectoryWriteError(t *testing.T) {
	bad := errors.New("disk full")
	ps := make([]store.Person, 1000)
	for i := range ps {
		ps[i] = staff(fmt.Sprint(i), "N")
	}
	if err := FormatDirectory(errWriter{bad}, ps); !errors.Is(err, bad) {
		t.Errorf("FormatDirectory(failing writer) = %v, want %v", err, bad)
	}
}

type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

// genDirectory makes n people in a tree of managers, with a mix of ranks,
// grades, roles, advisers and leavers.
func genDirectory(n int) []store.Person {
	ranks := AllRanks()
	grades := []string{"band_e", "band_c", "sps_1"}
	ps := make([]store.Person, n)
	for i := range ps {
		p := store.Person{
			ID:     fmt.Sprintf("MP%06d", i),
			Name:   fmt.Sprintf("Officer Number %d, Jr.", i),
			Number: fmt.Sprint(100000 + i),
			Unit:   fmt.Sprintf("Borough Command Unit %d", i%32),
			Roles:  []string{"staff"},
		}
		if i > 0 {
			p.Manager = fmt.Sprintf("MP%06d", (i-1)/8)
		}
		if i%3 == 0 {
			p.Grade = grades[i%len(grades)]
		} else {
			p.Rank = string(ranks[i%len(ranks)])
		}
		switch i % 50 {
		case 1:
			p.Roles = []string{"investigator", "staff"}
		case 2:
			p.Roles = []string{"authoriser", "investigator", "staff"}
		case 3:
			p.Roles = []string{"adviser", "staff"}
			p.Adviser = "legal"
		case 4:
			p.Roles = []string{"dpo", "staff"}
			p.Adviser = "dpo"
		}
		if i%97 == 0 {
			p.LeftOn = date(2020+i%5, time.Month(1+i%12), 1+i%28)
		}
		if i%10 != 0 {
			p.Emails = []string{fmt.Sprintf("officer.%d@force.example", i)}
			p.Username = fmt.Sprintf("off%d", i)
		}
		if i%10 == 1 {
			p.Emails = append([]string{fmt.Sprintf("alias%d@force.example", i)}, p.Emails...)
		}
		ps[i] = p
	}
	return ps
}

func TestParseDirectory50k(t *testing.T) {
	ps := genDirectory(50_000)
	var b bytes.Buffer
	if err := FormatDirectory(&b, ps); err != nil {
		t.Fatal(err)
	}
	got, err := ParseDirectory(&b, testGrades)
	if err != nil {
		t.Fatalf("ParseDirectory(50,000 rows) = %v", err)
	}
	if len(got) != len(ps) {
		t.Fatalf("ParseDirectory(50,000 rows) returned %d people", len(got))
	}
	// cmp.Diff over the whole slice takes seconds under the race
	// detector; compare person by person and show the first difference.
	for i := range ps {
		if !samePerson(ps[i], got[i]) {
			t.Fatalf("ParseDirectory(50,000 rows): person %d (-want +got):\n%s", i, cmp.Diff(ps[i], got[i]))
		}
	}
}

// samePerson reports whether a and b are equal in every field.
func samePerson(a, b store.Person) bool {
	if n := reflect.TypeFor[store.Person]().NumField(); n != 14 {
		panic(fmt.Sprintf("store.Person has %d fields: update samePerson", n))
	}
	return a.ID == b.ID && a.Name == b.Name && a.Number == b.Number && a.Unit == b.Unit &&
		a.Manager == b.Manager && a.Rank == b.Rank && a.Grade == b.Grade &&
		slices.Equal(a.Roles, b.Roles) && a.Adviser == b.Adviser && slices.Equal(a.Emails, b.Emails) &&
		a.Username == b.Username && a.LeftOn.Equal(b.LeftOn) &&
		a.Updated.Equal(b.Updated) && a.Version == b.Version
}

func BenchmarkParseDirectory50k(b *testing.B) {
	var buf bytes.Buffer
	if err := FormatDirectory(&buf, genDirectory(50_000)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseDirectory(bytes.NewReader(buf.Bytes()), testGrades); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParseDirectory checks that ParseDirectory never panics, that its
// errors are well formed, and that what it accepts is canonical enough to
// survive a round trip: formatting the people and parsing the result gives
// the same people, and formatting those gives the same bytes.
func FuzzParseDirectory(f *testing.F) {
	files, err := filepath.Glob("testdata/directory/*.csv")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata/directory: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("\uFEFFid,name\r\nA,\"Al\nB\"\r\n"))
	f.Add([]byte("id,name,manager\nA,Al,B\nB,Bo,A\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := ParseDirectory(bytes.NewReader(data), testGrades)
		if err != nil {
			var de *DirectoryError
			if !errors.As(err, &de) {
				t.Fatalf("ParseDirectory(%q) = %v (%T), want a *DirectoryError", data, err, err)
			}
			if len(de.Rows) == 0 || len(de.Rows) > maxRowErrors || de.More < 0 || de.More > 0 && len(de.Rows) < maxRowErrors {
				t.Fatalf("ParseDirectory(%q): %d rows, %d more", data, len(de.Rows), de.More)
			}
			if !slices.IsSortedFunc(de.Rows, func(a, b RowError) int { return a.Line - b.Line }) {
				t.Fatalf("ParseDirectory(%q): rows out of order:\n%v", data, err)
			}
			// Messages go to terminals: the input's bytes are quoted.
			for _, r := range de.Rows {
				if msg := r.Error(); strings.ContainsFunc(msg, safetext.Hidden) || !utf8.ValidString(msg) {
					t.Fatalf("ParseDirectory(%q): error %q holds a control character", data, msg)
				}
			}
			return
		}
		if len(ps) == 0 {
			t.Fatalf("ParseDirectory(%q) accepted no people", data)
		}
		for _, p := range ps {
			if !slices.Contains(p.Roles, "staff") || !slices.IsSorted(p.Roles) || len(slices.Compact(slices.Clone(p.Roles))) != len(p.Roles) {
				t.Fatalf("ParseDirectory(%q): roles %q", data, p.Roles)
			}
		}
		var b1 bytes.Buffer
		if err := FormatDirectory(&b1, ps); err != nil {
			t.Fatal(err)
		}
		ps2, err := ParseDirectory(bytes.NewReader(b1.Bytes()), testGrades)
		if err != nil {
			t.Fatalf("ParseDirectory(%q) = %v; it was formatted from the people in %q", b1.Bytes(), err, data)
		}
		if diff := cmp.Diff(ps, ps2); diff != "" {
			t.Fatalf("round trip of %q (-first +second):\n%s", data, diff)
		}
		var b2 bytes.Buffer
		if err := FormatDirectory(&b2, ps2); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
			t.Fatalf("FormatDirectory not stable for %q:\n%q\n%q", data, b1.Bytes(), b2.Bytes())
		}
	})
}
