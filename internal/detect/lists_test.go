package detect

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/lbm-project/lbm/internal/policy"
)

func TestParseList(t *testing.T) {
	l, err := ParseList("l.csv", []byte("# from the IMU, 2026-11-01\nvalue\nR1\n\n\"R,2\"\nR1\n"))
	if err != nil {
		t.Fatalf("ParseList = %v", err)
	}
	if l.Keyed() || l.Len() != 2 {
		t.Errorf("ParseList = keyed %t, %d values, want plain, 2", l.Keyed(), l.Len())
	}
	if _, ok := l.set["R,2"]; !ok {
		t.Errorf("ParseList: no quoted value R,2 in %v", l.set)
	}
	k, err := ParseList("k.csv", []byte("key,value\r\nu1,u9\r\nu1,u8\r\nu2,u9\r\n"))
	if err != nil {
		t.Fatalf("ParseList = %v", err)
	}
	if !k.Keyed() || k.Len() != 3 || len(k.byKey["u1"]) != 2 {
		t.Errorf("ParseList = keyed %t, %d values %v, want keyed, 3", k.Keyed(), k.Len(), k.byKey)
	}
}

func TestParseListBad(t *testing.T) {
	for _, tc := range []struct{ name, data, want string }{
		{"empty", "", "l.csv: line 1: empty (want a header row"},
		{"comments only", "# nothing\n", "empty"},
		{"no header", "R1\nR2\n", `l.csv: line 1: header R1: want value, or key,value`},
		{"header with spaces", "key, value\n", `header "key, value": want value, or key,value`},
		{"three columns", "key,value\nu1,u2,u3\n", "l.csv: line 2: wrong number of fields"},
		{"missing column", "key,value\nu1\n", "line 2: wrong number of fields"},
		{"empty value", "value\nR1\n\"\"\n", "l.csv: line 3: value: empty"},
		{"empty key", "key,value\n,u1\n", "line 2: key: empty"},
		{"space", "value\n R1\n", `line 2: value: starts or ends with a space: " R1"`},
		{"hidden", "value\n\"R\u202e1\"\n", `line 2: value: contains a hidden character`},
		{"newline in quotes", "value\n\"R\n1\"\n", `value: contains a hidden character: "R\n1"`},
		{"too long", "value\n" + strings.Repeat("x", MaxListValue+1) + "\n", "value: longer than 1024 bytes"},
		{"bad quote", "value\nR\"1\n", `l.csv: line 2: bare " in non-quoted-field`},
		{"not UTF-8", "value\n\xff\n", "l.csv: not valid UTF-8"},
		{"too big", "value\n" + strings.Repeat("x\n", MaxListFileSize/2+1), "longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseList("l.csv", []byte(tc.data))
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseList = %v, want a *ParseError containing %q", err, tc.want)
			}
		})
	}
}

func TestReadLists(t *testing.T) {
	inputs := policy.DefaultDetection()
	lists, err := ReadLists(fstest.MapFS{
		"RESTRICTED_RECORDS.csv": {Data: []byte("value\nR1\n")},
		"VETTED_FAMILY.csv":      {Data: []byte("key,value\nu1,u9\n")},
	}, inputs)
	if err != nil {
		t.Fatalf("ReadLists = %v", err)
	}
	if len(lists) != 2 || lists["RESTRICTED_RECORDS"].Keyed() || !lists["VETTED_FAMILY"].Keyed() {
		t.Errorf("ReadLists = %v", lists)
	}
	for _, tc := range []struct {
		name string
		fs   fstest.MapFS
		want string
	}{
		{"unknown list", fstest.MapFS{"VIPS.csv": {Data: []byte("value\n")}}, "VIPS.csv: not a reference list (want one of RESTRICTED_RECORDS.csv, OWN_SURNAME_ADDRESS.csv"},
		{"other file", fstest.MapFS{"README.txt": {Data: []byte("hi")}}, "README.txt: not a reference list"},
		{"directory", fstest.MapFS{"RESTRICTED_RECORDS.csv/x": {Data: []byte("hi")}}, "RESTRICTED_RECORDS.csv: not a regular file"},
		{"bad list", fstest.MapFS{"LEAVE_ABSENCE.csv": {Data: []byte("key,value\nu1\n")}}, "LEAVE_ABSENCE.csv: line 2: wrong number of fields"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadLists(tc.fs, inputs)
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ReadLists = %v, want a *ParseError containing %q", err, tc.want)
			}
		})
	}
}
