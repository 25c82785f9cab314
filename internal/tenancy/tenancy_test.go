package tenancy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const good = `tenants:
  - id: force-a
    name: Force A
    hosts: [Force-A.lbm.example, a.example]
    data: a
  - id: force-b
    name: Force B
    hosts: [force-b.lbm.example]
    data: /srv/lbm/b
    db: postgres://lbm@db.example/force_b
    origin: b.example/logs
national:
  hosts: [national.lbm.example]
  data: national
  db: postgres://lbm@db.example/national
  keys_db: postgres://lbm@keys.example/national_keys
`

func TestParse(t *testing.T) {
	f, err := Parse([]byte(good), "/etc/lbm")
	if err != nil {
		t.Fatalf("Parse(good) = %v", err)
	}
	want := &File{
		Tenants: []Tenant{
			{ID: "force-a", Name: "Force A", Hosts: []string{"force-a.lbm.example", "a.example"}, Data: "/etc/lbm/a", Origin: "force-a.lbm.example"},
			{ID: "force-b", Name: "Force B", Hosts: []string{"force-b.lbm.example"}, Data: "/srv/lbm/b",
				DB: "postgres://lbm@db.example/force_b", Origin: "b.example/logs"},
		},
		National: &National{Hosts: []string{"national.lbm.example"}, Data: "/etc/lbm/national",
			DB: "postgres://lbm@db.example/national", KeysDB: "postgres://lbm@keys.example/national_keys"},
	}
	if diff := cmp.Diff(want, f); diff != "" {
		t.Errorf("Parse(good) (-want +got):\n%s", diff)
	}
}

// tenant is one tenant's entry; tests replace parts of it.
func tenant(id, host, data string, extra ...string) string {
	s := "  - id: " + id + "\n    name: Name " + id + "\n    hosts: [" + host + "]\n    data: " + data + "\n"
	for _, e := range extra {
		s += "    " + e + "\n"
	}
	return s
}

func TestParseRefuses(t *testing.T) {
	a := tenant("a", "a.example", "/d/a")
	b := tenant("b", "b.example", "/d/b")
	for _, tc := range []struct{ name, in, want string }{
		{"empty file", "", "line 1: empty file"},
		{"not a mapping", "- a\n", "want a mapping"},
		{"no tenants", "national:\n  hosts: [n.example]\n  data: /n\n", "tenants: missing"},
		{"empty tenants", "tenants: []\n", "line 1: tenants: empty"},
		{"tenants not a list", "tenants: x\n", "tenants: want a list"},
		{"unknown top key", "tenants:\n" + a + "extra: 1\n", "extra: unknown key"},
		{"unknown tenant key", "tenants:\n" + tenant("a", "a.example", "/d/a", "kek: x"), "\"tenants[0].kek\": unknown key"},
		{"repeated key", "tenants:\n" + tenant("a", "a.example", "/d/a", "id: b"), "tenants[0].id: repeated key"},
		{"missing id", "tenants:\n  - name: A\n    hosts: [a.example]\n    data: /a\n", "tenants[0].id: missing"},
		{"missing name", "tenants:\n  - id: a\n    hosts: [a.example]\n    data: /a\n", "tenants[0].name: missing"},
		{"missing hosts", "tenants:\n  - id: a\n    name: A\n    data: /a\n", "tenants[0].hosts: missing"},
		{"missing data", "tenants:\n  - id: a\n    name: A\n    hosts: [a.example]\n", "tenants[0].data: missing"},
		{"bad id", "tenants:\n" + tenant("Force_A", "a.example", "/d/a"), "tenants[0].id: Force_A is not an id"},
		{"id a number", "tenants:\n" + tenant("12", "a.example", "/d/a"), "tenants[0].id: want text"},
		{"duplicate id", "tenants:\n" + a + tenant("a", "b.example", "/d/b"), "tenants[1].id: a is the id of another tenant"},
		{"duplicate name", "tenants:\n" + a + strings.Replace(b, "Name b", "Name a", 1), "tenants[1].name: \"Name a\" is the name of tenant a too"},
		{"control in name", "tenants:\n" + strings.Replace(a, "Name a", "\"Name\\u202ea\"", 1), "tenants[0].name: want a name"},
		{"empty hosts", "tenants:\n" + strings.Replace(a, "[a.example]", "[]", 1), "tenants[0].hosts: empty"},
		{"host with port", "tenants:\n" + tenant("a", "a.example:8080", "/d/a"), "tenants[0].hosts[0]: \"a.example:8080\" is not a host name"},
		{"host with scheme", "tenants:\n" + tenant("a", "\"https://a.example\"", "/d/a"), "is not a host name"},
		{"host twice in a tenant", "tenants:\n" + tenant("a", "a.example, A.example", "/d/a"), "tenants[0].hosts[1]: a.example is given twice"},
		{"host shared", "tenants:\n" + a + tenant("b", "A.Example", "/d/b"), "tenants[1].hosts[0]: a.example is a host of tenant a too"},
		{"host shared with national", "tenants:\n" + a + "national:\n  hosts: [a.example]\n  data: /n\n", "national.hosts[0]: a.example is a host of tenant a too"},
		{"data shared", "tenants:\n" + a + tenant("b", "b.example", "/d/a/"), "tenants[1].data: \"/d/a\" is the data directory of tenant a too"},
		{"data shared relatively", "tenants:\n" + a + tenant("b", "b.example", "../../d/a"), "is the data directory of tenant a too"},
		{"data inside another", "tenants:\n" + a + tenant("b", "b.example", "/d/a/b"), "tenants[1].data: \"/d/a/b\" is inside tenant a's data directory"},
		{"national data inside a tenant's", "tenants:\n" + a + "national:\n  hosts: [n.example]\n  data: /d/a/n\n", "national.data: \"/d/a/n\" is inside tenant a's"},
		{"empty data", "tenants:\n" + tenant("a", "a.example", "\"\""), "tenants[0].data: want a directory"},
		{"db not postgres", "tenants:\n" + tenant("a", "a.example", "/d/a", "db: mysql://x/a"), "tenants[0].db: not a postgres:// URL"},
		{"db names no database", "tenants:\n" + tenant("a", "a.example", "/d/a", "db: postgres://x/"), "tenants[0].db: not a postgres:// URL naming a database"},
		{"db shared", "tenants:\n" + tenant("a", "a.example", "/d/a", "db: postgres://u@x/a") + tenant("b", "b.example", "/d/b", "db: postgres://v:pw@X:5432/a?sslmode=require"),
			"tenants[1].db: the database is tenant a's too"},
		{"keys db shared", "tenants:\n" + tenant("a", "a.example", "/d/a", "db: postgres://x/a", "keys_db: postgres://k/keys") + tenant("b", "b.example", "/d/b", "db: postgres://x/b", "keys_db: postgres://k/keys"),
			"tenants[1].keys_db: the keys database is tenant a's too"},
		{"keys db is another's default", "tenants:\n" + tenant("a", "a.example", "/d/a", "db: postgres://x/a") + tenant("b", "b.example", "/d/b", "db: postgres://x/b", "keys_db: postgres://x/a_keys"),
			"tenants[1].keys_db: the keys database is tenant a's too"},
		{"db is another's keys db", "tenants:\n" + tenant("a", "a.example", "/d/a", "db: postgres://x/a") + tenant("b", "b.example", "/d/b", "db: postgres://x/a_keys"),
			"tenants[1].db: the database is tenant a's too"},
		{"keys db without db", "tenants:\n" + tenant("a", "a.example", "/d/a", "keys_db: postgres://x/k"), "tenants[0].keys_db: a keys database is only for a PostgreSQL store"},
		{"origin shared", "tenants:\n" + tenant("a", "a.example", "/d/a", "origin: o.example") + tenant("b", "b.example", "/d/b", "origin: o.example"),
			"tenants[1].origin: o.example is the log origin of tenant a too"},
		{"origin shared with a default", "tenants:\n" + a + tenant("b", "b.example", "/d/b", "origin: a.example"), "tenants[1].origin: a.example is the log origin of tenant a too"},
		{"bad origin", "tenants:\n" + tenant("a", "a.example", "/d/a", "origin: \"a example\""), "tenants[0].origin: \"a example\" is not a log origin prefix"},
		{"national origin is a tenant's", "tenants:\n" + tenant("a", "a.example", "/d/a", "origin: n.example") + "national:\n  hosts: [n.example]\n  data: /n\n",
			"national.hosts[0]: n.example is the log origin of tenant a too"},
		{"national unknown key", "tenants:\n" + a + "national:\n  hosts: [n.example]\n  data: /n\n  origin: n\n", "national.origin: unknown key"},
		{"national no hosts", "tenants:\n" + a + "national:\n  data: /n\n", "national.hosts: missing"},
		{"national empty hosts", "tenants:\n" + a + "national:\n  hosts: []\n  data: /n\n", "national.hosts: empty"},
		{"anchor", "tenants:\n  - &x\n    id: a\n    name: A\n    hosts: [a.example]\n    data: /a\n", "anchors are not allowed"},
		{"alias", "tenants:\n  - id: a\n    name: A\n    hosts: &h [a.example]\n    data: /a\n  - id: b\n    name: B\n    hosts: *h\n    data: /b\n", "not allowed"},
		{"two documents", "tenants:\n" + a + "---\ntenants: []\n", "more than one YAML document"},
		{"syntax", "tenants: [\n", "line"},
		{"not UTF-8", "tenants: \xff\n", "not valid UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse([]byte(tc.in), "/etc/lbm")
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse(%q) = %+v, %v; want a ParseError containing %q", tc.in, f, err, tc.want)
			}
		})
	}
	if _, err := Parse([]byte("tenants:\n"+strings.Repeat(" ", MaxFileSize)), "/"); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("Parse(oversized) = %v", err)
	}
}

func TestHost(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"force-a.lbm.example", "force-a.lbm.example"},
		{"Force-A.LBM.example", "force-a.lbm.example"},
		{"force-a.lbm.example:8443", "force-a.lbm.example"},
		{"force-a.lbm.example.", "force-a.lbm.example"},
		{"FORCE-A.lbm.example.:80", "force-a.lbm.example"},
		{"127.0.0.1:8080", "127.0.0.1"},
		{"[::1]:8080", "[::1]:8080"},
		{"", ""},
	} {
		if got := Host(tc.in); got != tc.want {
			t.Errorf("Host(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	seeds, _ := filepath.Glob("testdata/*.yaml")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data, "/etc/lbm")
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse = %T %v, want a *ParseError", err, err)
			}
			return
		}
		// Whatever parses shares nothing between its nodes.
		hosts, data2 := map[string]bool{}, map[string]bool{}
		nodes := [][]string{}
		for _, tn := range file.Tenants {
			if tn.ID == "" || tn.Name == "" || len(tn.Hosts) == 0 || !filepath.IsAbs(tn.Data) {
				t.Fatalf("Parse accepted an incomplete tenant %+v", tn)
			}
			nodes = append(nodes, append([]string{tn.Data}, tn.Hosts...))
		}
		if file.National != nil {
			nodes = append(nodes, append([]string{file.National.Data}, file.National.Hosts...))
		}
		for _, n := range nodes {
			if data2[n[0]] {
				t.Fatalf("data directory %q shared", n[0])
			}
			data2[n[0]] = true
			for _, h := range n[1:] {
				if hosts[h] || Host(h) != h {
					t.Fatalf("host %q shared or not canonical", h)
				}
				hosts[h] = true
			}
		}
	})
}
