// Package tenancy reads the tenants file of a service that serves several
// organisations (police forces) from one process, and says which tenant
// a request's Host names. Pure: no I/O beyond what the caller reads.
//
// # Isolation by construction
//
// A tenant is a complete lbm node: its own data directory (KEK, log
// signing keys, pseudonym secret, admin token) and its own store (SQLite
// files in that directory, or its own PostgreSQL databases). No table has
// a tenant column and no query can name another tenant, because nothing
// of one tenant is reachable from another's node. What tenants share is
// the process and the listener, and the one thing that joins them, the
// Host a request is sent to, is matched here. So Parse refuses anything
// that would let two tenants share a place: a data directory (or one
// inside another), a database, a host or a log origin.
//
// # The file
//
//	tenants:
//	  - id: force-a                  # lower-case letters, digits, hyphens; unique
//	    name: Force A                # shown on pages and in the national report
//	    hosts: [force-a.lbm.example] # unique across the file; matched without case or port
//	    data: /var/lib/lbm/force-a   # required; relative to the file's directory
//	    db: postgres://…/force_a     # optional; else SQLite in data
//	    keys_db: postgres://…        # optional; default NAME_keys beside db
//	    origin: force-a.lbm.example  # optional log origin prefix; default the first host
//	national:                        # optional: the national oversight node
//	  hosts: [national.lbm.example]
//	  data: /var/lib/lbm/national
//	  db: postgres://…/national      # optional
//	  keys_db: postgres://…          # optional
//
// Unknown or repeated keys, anchors, aliases, a second document, empty
// lists and every kind of sharing above are errors (*ParseError), naming
// the line and the field.
package tenancy

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/lbm-project/lbm/internal/safetext"
	"github.com/lbm-project/lbm/internal/strictyaml"
)

// Limits on the file, so that a hostile or mistaken file stays cheap.
const (
	MaxFileSize = 1 << 20
	MaxTenants  = 1000
	MaxHosts    = 32
	maxKeys     = 1100
)

// Tenant is one organisation served by the process.
type Tenant struct {
	ID     string
	Name   string
	Hosts  []string // lower-case, without a port
	Data   string   // absolute, or relative to the working directory when the file's was
	DB     string
	KeysDB string
	Origin string // the log origin prefix
}

// National is the national oversight node: a node of its own, whose
// staff see aggregate figures across the tenants and nothing else. Its
// logs' origin prefix is its first host.
type National struct {
	Hosts  []string
	Data   string
	DB     string
	KeysDB string
}

// File is a parsed tenants file.
type File struct {
	Tenants  []Tenant
	National *National // nil when the file names none
}

// ParseError is what Parse refuses: the 1-based line (0 for the file as a
// whole), the field, and why.
type ParseError struct {
	Line  int
	Field string
	Msg   string
}

func (e *ParseError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		b.WriteString("line " + strconv.Itoa(e.Line) + ": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func errorf(line int, field, format string, args ...any) *ParseError {
	return &ParseError{Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func problem(p *strictyaml.Problem) error {
	if p == nil {
		return nil
	}
	return &ParseError{Line: p.Line, Field: p.Field, Msg: p.Msg}
}

var (
	idPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
	// hostPattern is a DNS name of lower-case labels: what Host carries
	// once lower-cased and stripped of its port.
	hostPattern   = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$`)
	originPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{0,200}(?:/[a-z0-9._-]{1,64}){0,4}$`)
)

// Parse reads a tenants file strictly. dir is the file's directory:
// relative data directories are taken relative to it, so that the file
// means the same whatever directory lbm is started in.
func Parse(data []byte, dir string) (*File, error) {
	if len(data) > MaxFileSize {
		return nil, errorf(0, "", "longer than %d bytes", MaxFileSize)
	}
	if !utf8.Valid(data) {
		return nil, errorf(0, "", "not valid UTF-8")
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if err == io.EOF {
			return nil, errorf(1, "", "empty file (want a mapping with the key tenants)")
		}
		return nil, problem(strictyaml.SyntaxError(err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		if err != nil {
			return nil, problem(strictyaml.SyntaxError(err))
		}
		return nil, errorf(extra.Line, "", "more than one YAML document")
	}
	if err := problem(strictyaml.CheckTree(&root, maxKeys, "tenant", true)); err != nil {
		return nil, err
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) != 1 {
		return nil, errorf(1, "", "want a mapping with the key tenants")
	}
	top, p := strictyaml.Fields(root.Content[0], "", "", []string{"tenants", "national"})
	if p != nil {
		return nil, problem(p)
	}
	ts, ok := top["tenants"]
	if !ok {
		return nil, errorf(root.Content[0].Line, "tenants", "missing")
	}
	if ts.Kind != yaml.SequenceNode {
		return nil, errorf(ts.Line, "tenants", "want a list, not %s", strictyaml.Describe(ts))
	}
	if len(ts.Content) == 0 {
		return nil, errorf(ts.Line, "tenants", "empty (name at least one tenant)")
	}
	if len(ts.Content) > MaxTenants {
		return nil, errorf(ts.Line, "tenants", "more than %d tenants", MaxTenants)
	}
	c := newChecker()
	f := &File{}
	for i, n := range ts.Content {
		t, err := parseTenant(n, fmt.Sprintf("tenants[%d]", i), dir, c)
		if err != nil {
			return nil, err
		}
		f.Tenants = append(f.Tenants, t)
	}
	if n, ok := top["national"]; ok {
		nat, err := parseNational(n, dir, c)
		if err != nil {
			return nil, err
		}
		f.National = nat
	}
	if err := c.nested(); err != nil {
		return nil, err
	}
	return f, nil
}

// checker remembers every place a tenant claimed, to refuse a second
// claim: the whole of the isolation rests on nothing being shared.
type checker struct {
	ids, names, hosts, origins, dbs map[string]string // value -> who claimed it
	data                            []claim
}

// Host returns the name a request's Host header gives, as tenants'
// hosts are written: lower-case, without a port or a final dot. An IPv6
// literal keeps its brackets and so matches no host name.
func Host(h string) string {
	h = strings.ToLower(h)
	if host, _, err := net.SplitHostPort(h); err == nil && !strings.Contains(host, ":") {
		h = host
	}
	return strings.TrimSuffix(h, ".")
}

type claim struct {
	path, who, field string
	line             int
}

func newChecker() *checker {
	return &checker{ids: map[string]string{}, names: map[string]string{}, hosts: map[string]string{},
		origins: map[string]string{}, dbs: map[string]string{}}
}

// take claims v in m for who, refusing it when another has it.
func take(m map[string]string, v, who string, line int, field, what string) error {
	if prev, ok := m[v]; ok {
		if prev == who {
			return errorf(line, field, "%s is given twice", safetext.Quote(v))
		}
		return errorf(line, field, "%s is %s of %s too (tenants share nothing)", safetext.Quote(v), what, prev)
	}
	m[v] = who
	return nil
}

// nested refuses a data directory inside another's: the outer tenant's
// files would hold the inner one's keys.
func (c *checker) nested() error {
	for _, a := range c.data {
		for _, b := range c.data {
			if a.who != b.who && strings.HasPrefix(b.path, strings.TrimSuffix(a.path, string(filepath.Separator))+string(filepath.Separator)) {
				return errorf(b.line, b.field, "%s is inside %s's data directory (tenants share nothing)", safetext.Quote(b.path), a.who)
			}
		}
	}
	return nil
}

func parseTenant(n *yaml.Node, where, dir string, c *checker) (Tenant, error) {
	keys := []string{"id", "name", "hosts", "data", "db", "keys_db", "origin"}
	f, p := strictyaml.Fields(n, where, where+".", keys)
	if p != nil {
		return Tenant{}, problem(p)
	}
	var t Tenant
	for _, k := range []string{"id", "name", "hosts", "data"} {
		if _, ok := f[k]; !ok {
			return Tenant{}, errorf(n.Line, where+"."+k, "missing")
		}
	}
	id, err := text(f["id"], where+".id")
	if err != nil {
		return Tenant{}, err
	}
	if !idPattern.MatchString(id) {
		return Tenant{}, errorf(f["id"].Line, where+".id", "%s is not an id (lower-case letters, digits and '-', at most 63)", safetext.Quote(id))
	}
	if _, dup := c.ids[id]; dup {
		return Tenant{}, errorf(f["id"].Line, where+".id", "%s is the id of another tenant", safetext.Quote(id))
	}
	t.ID = id
	who := "tenant " + id
	c.ids[id] = who
	if t.Name, err = text(f["name"], where+".name"); err != nil {
		return Tenant{}, err
	}
	if t.Name == "" || len(t.Name) > 200 || strings.ContainsFunc(t.Name, safetext.Hidden) {
		return Tenant{}, errorf(f["name"].Line, where+".name", "want a name of 1 to 200 printable characters")
	}
	if err := take(c.names, t.Name, who, f["name"].Line, where+".name", "the name"); err != nil {
		return Tenant{}, err
	}
	if t.Hosts, err = hosts(f["hosts"], where+".hosts", who, c); err != nil {
		return Tenant{}, err
	}
	if t.Data, err = dataDir(f["data"], where+".data", dir, who, c); err != nil {
		return Tenant{}, err
	}
	if t.DB, t.KeysDB, err = databases(f, where, who, c); err != nil {
		return Tenant{}, err
	}
	t.Origin = t.Hosts[0]
	line := n.Line
	if o, ok := f["origin"]; ok {
		if t.Origin, err = text(o, where+".origin"); err != nil {
			return Tenant{}, err
		}
		if !originPattern.MatchString(t.Origin) {
			return Tenant{}, errorf(o.Line, where+".origin", "%s is not a log origin prefix (lower-case host name, optionally /path)", safetext.Quote(t.Origin))
		}
		line = o.Line
	}
	if err := take(c.origins, t.Origin, who, line, where+".origin", "the log origin"); err != nil {
		return Tenant{}, err
	}
	return t, nil
}

func parseNational(n *yaml.Node, dir string, c *checker) (*National, error) {
	const where = "national"
	f, p := strictyaml.Fields(n, where, where+".", []string{"hosts", "data", "db", "keys_db"})
	if p != nil {
		return nil, problem(p)
	}
	for _, k := range []string{"hosts", "data"} {
		if _, ok := f[k]; !ok {
			return nil, errorf(n.Line, where+"."+k, "missing")
		}
	}
	var nat National
	var err error
	if nat.Hosts, err = hosts(f["hosts"], where+".hosts", where, c); err != nil {
		return nil, err
	}
	// Its logs' origin prefix is its first host.
	if err := take(c.origins, nat.Hosts[0], where, f["hosts"].Line, where+".hosts[0]", "the log origin"); err != nil {
		return nil, err
	}
	if nat.Data, err = dataDir(f["data"], where+".data", dir, where, c); err != nil {
		return nil, err
	}
	if nat.DB, nat.KeysDB, err = databases(f, where, where, c); err != nil {
		return nil, err
	}
	return &nat, nil
}

func text(n *yaml.Node, field string) (string, error) {
	s, p := strictyaml.Scalar(n, field, "!!str", "text")
	return s, problem(p)
}

func hosts(n *yaml.Node, field, who string, c *checker) ([]string, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, errorf(n.Line, field, "want a list, not %s", strictyaml.Describe(n))
	}
	if len(n.Content) == 0 {
		return nil, errorf(n.Line, field, "empty (name at least one host)")
	}
	if len(n.Content) > MaxHosts {
		return nil, errorf(n.Line, field, "more than %d hosts", MaxHosts)
	}
	var out []string
	for i, h := range n.Content {
		hf := fmt.Sprintf("%s[%d]", field, i)
		s, err := text(h, hf)
		if err != nil {
			return nil, err
		}
		s = strings.ToLower(s)
		if len(s) > 253 || !hostPattern.MatchString(s) {
			return nil, errorf(h.Line, hf, "%s is not a host name (no port, no scheme)", safetext.Quote(s))
		}
		if err := take(c.hosts, s, who, h.Line, hf, "a host"); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func dataDir(n *yaml.Node, field, dir, who string, c *checker) (string, error) {
	s, err := text(n, field)
	if err != nil {
		return "", err
	}
	if s == "" || strings.ContainsRune(s, 0) {
		return "", errorf(n.Line, field, "want a directory")
	}
	if !filepath.IsAbs(s) {
		s = filepath.Join(dir, s)
	}
	s = filepath.Clean(s)
	for _, d := range c.data {
		if d.path == s {
			return "", errorf(n.Line, field, "%s is the data directory of %s too (tenants share nothing)", safetext.Quote(s), d.who)
		}
	}
	c.data = append(c.data, claim{path: s, who: who, field: field, line: n.Line})
	return s, nil
}

// databases reads db and keys_db, claiming the databases they name
// (keys_db's default too: NAME_keys beside db) so that no two nodes share
// one, however its URL is spelt.
func databases(f map[string]*yaml.Node, where, who string, c *checker) (db, keysDB string, err error) {
	if n, ok := f["db"]; ok {
		if db, err = text(n, where+".db"); err != nil {
			return "", "", err
		}
	}
	if n, ok := f["keys_db"]; ok {
		if keysDB, err = text(n, where+".keys_db"); err != nil {
			return "", "", err
		}
		if db == "" {
			return "", "", errorf(n.Line, where+".keys_db", "a keys database is only for a PostgreSQL store: give db too")
		}
	}
	if db == "" {
		return "", "", nil
	}
	dbKey, ok := database(db, "")
	if !ok {
		return "", "", errorf(f["db"].Line, where+".db", "not a postgres:// URL naming a database")
	}
	if err := take(c.dbs, dbKey, who, f["db"].Line, where+".db", "a database"); err != nil {
		return "", "", errorf(f["db"].Line, where+".db", "the database is %s's too (tenants share nothing)", c.dbs[dbKey])
	}
	line, field := f["db"].Line, where+".db"
	kk, ok := database(db, "_keys")
	if keysDB != "" {
		line, field = f["keys_db"].Line, where+".keys_db"
		kk, ok = database(keysDB, "")
		if !ok {
			return "", "", errorf(line, field, "not a postgres:// URL naming a database")
		}
	}
	if prev, taken := c.dbs[kk]; taken {
		return "", "", errorf(line, field, "the keys database is %s's too (tenants share nothing)", prev)
	}
	c.dbs[kk] = who
	return db, keysDB, nil
}

// database names the database a postgres:// URL reaches, as host/name,
// with suffix added to the name; the spelling (credentials, options,
// case of the host) does not matter.
func database(s, suffix string) (string, bool) {
	if !strings.HasPrefix(s, "postgres://") && !strings.HasPrefix(s, "postgresql://") {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", false
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" || strings.Contains(name, "/") {
		return "", false
	}
	host := strings.ToLower(u.Host)
	if u.Port() == "" {
		host += ":5432"
	}
	return host + "/" + name + suffix, true
}
