package witness

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	fnote "github.com/transparency-dev/formats/note"
	"go.yaml.in/yaml/v3"
	"golang.org/x/mod/sumdb/note"

	"github.com/lbm-project/lbm/internal/safetext"
	"github.com/lbm-project/lbm/internal/strictyaml"
)

// File is the name of the witness configuration in the data directory.
const File = "witnesses.yaml"

// Limits on the configuration.
const (
	MaxFileSize  = 64 << 10
	MaxWitnesses = 32
	maxKeys      = 8 // more keys than any mapping of the file has
)

// Fail says what is served while a checkpoint lacks its quorum.
type Fail string

const (
	FailOpen   Fail = "open"   // the newest checkpoint, cosigned as far as it is
	FailClosed Fail = "closed" // only the newest checkpoint quorum witnesses cosigned
)

// Config is a parsed DATA/witnesses.yaml.
type Config struct {
	Witnesses []Witness
	// Quorum is how many witnesses must cosign a checkpoint: 1 to
	// len(Witnesses), default 1.
	Quorum int
	Fail   Fail // default FailOpen
}

// Witness is one configured witness.
type Witness struct {
	// Name identifies the witness in lbm (status, stored cosignatures).
	Name string
	// URL is the witness's tlog-witness prefix; add-checkpoint is under it.
	URL string
	// Key is the witness's cosignature/v1 verifier key, as the witness
	// prints it: <name>+<hash>+base64(0x04 || Ed25519 public key).
	Key      string
	verifier note.Verifier
}

// Verifier returns the verifier of w's cosignatures.
func (w Witness) Verifier() note.Verifier { return w.verifier }

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

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// Parse reads a witness configuration strictly: unknown or repeated keys,
// anchors, aliases, a second document, a name given twice, a URL that is
// not plain http(s), a key that is not a canonical cosignature/v1 key, or
// a quorum above the number of witnesses are all errors (*ParseError),
// so that what is written is what is done.
func Parse(data []byte) (*Config, error) {
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
			return nil, errorf(1, "", "empty file (want a mapping with the key witnesses; remove the file to witness nothing)")
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
	if err := problem(strictyaml.CheckTree(&root, maxKeys, "witness", true)); err != nil {
		return nil, err
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) != 1 {
		return nil, errorf(1, "", "want a mapping with the key witnesses")
	}
	top, p := strictyaml.Fields(root.Content[0], "", "", []string{"witnesses", "policy"})
	if p != nil {
		return nil, problem(p)
	}
	ws, ok := top["witnesses"]
	if !ok {
		return nil, errorf(root.Content[0].Line, "witnesses", "missing")
	}
	if ws.Kind != yaml.SequenceNode {
		return nil, errorf(ws.Line, "witnesses", "want a list, not %s", strictyaml.Describe(ws))
	}
	if len(ws.Content) == 0 {
		return nil, errorf(ws.Line, "witnesses", "empty (remove the file to witness nothing)")
	}
	if len(ws.Content) > MaxWitnesses {
		return nil, errorf(ws.Line, "witnesses", "more than %d witnesses", MaxWitnesses)
	}
	cfg := &Config{Quorum: 1, Fail: FailOpen}
	seen := map[string]bool{}
	for i, n := range ws.Content {
		w, err := parseWitness(n, fmt.Sprintf("witnesses[%d]", i))
		if err != nil {
			return nil, err
		}
		if seen[w.Name] {
			return nil, errorf(n.Line, fmt.Sprintf("witnesses[%d].name", i), "%s is named twice", w.Name)
		}
		seen[w.Name] = true
		cfg.Witnesses = append(cfg.Witnesses, w)
	}
	if pn, ok := top["policy"]; ok {
		f, p := strictyaml.Fields(pn, "policy", "policy.", []string{"quorum", "fail"})
		if p != nil {
			return nil, problem(p)
		}
		if q, ok := f["quorum"]; ok {
			if cfg.Quorum, p = strictyaml.Int(q, "policy.quorum", 1, len(cfg.Witnesses)); p != nil {
				return nil, problem(p)
			}
		}
		if fn, ok := f["fail"]; ok {
			v, p := strictyaml.Scalar(fn, "policy.fail", "!!str", "open or closed")
			if p != nil {
				return nil, problem(p)
			}
			switch Fail(v) {
			case FailOpen, FailClosed:
				cfg.Fail = Fail(v)
			default:
				return nil, errorf(fn.Line, "policy.fail", "want open or closed, not %s", safetext.Quote(v))
			}
		}
	}
	return cfg, nil
}

func parseWitness(n *yaml.Node, where string) (Witness, error) {
	f, p := strictyaml.Fields(n, where, where+".", []string{"name", "url", "key"})
	if p != nil {
		return Witness{}, problem(p)
	}
	var w Witness
	for _, k := range []string{"name", "url", "key"} {
		v, ok := f[k]
		if !ok {
			return Witness{}, errorf(n.Line, where+"."+k, "missing")
		}
		s, p := strictyaml.Scalar(v, where+"."+k, "!!str", "text")
		if p != nil {
			return Witness{}, problem(p)
		}
		switch k {
		case "name":
			if !namePattern.MatchString(s) {
				return Witness{}, errorf(v.Line, where+".name", "%s is not a name (lower-case letters, digits, '.', '_' and '-', at most 63)", safetext.Quote(s))
			}
			w.Name = s
		case "url":
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
				u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || strings.ContainsAny(s, "?#") {
				return Witness{}, errorf(v.Line, where+".url", "%s is not a plain http or https URL", safetext.Quote(s))
			}
			w.URL = strings.TrimSuffix(s, "/")
		case "key":
			verifier, err := parseKey(s)
			if err != nil {
				return Witness{}, errorf(v.Line, where+".key", "%s", err)
			}
			w.Key, w.verifier = s, verifier
		}
	}
	return w, nil
}

// parseKey reads a cosignature/v1 verifier key, refusing any other
// algorithm and a key hash that is not the key's: a key has one spelling.
func parseKey(s string) (note.Verifier, error) {
	name, rest, _ := strings.Cut(s, "+")
	_, key64, _ := strings.Cut(rest, "+")
	key, err := base64.StdEncoding.Strict().DecodeString(key64)
	if err != nil || len(key) != 33 || key[0] != 4 {
		return nil, fmt.Errorf("not a cosignature/v1 verifier key (<name>+<hash>+base64 of 0x04 and an Ed25519 public key)")
	}
	v, err := fnote.NewVerifierForCosignatureV1(s)
	if err != nil {
		return nil, fmt.Errorf("not a cosignature/v1 verifier key: %v", err)
	}
	if want := fmt.Sprintf("%s+%08x+%s", name, v.KeyHash(), key64); s != want {
		return nil, fmt.Errorf("the key hash is not the key's (want %s)", safetext.Quote(want))
	}
	return v, nil
}

// Format returns cfg as YAML that Parse reads back to cfg.
func Format(cfg *Config) []byte {
	var b bytes.Buffer
	b.WriteString("witnesses:\n")
	for _, w := range cfg.Witnesses {
		fmt.Fprintf(&b, "  - name: %s\n    url: %q\n    key: %q\n", w.Name, w.URL, w.Key)
	}
	fmt.Fprintf(&b, "policy:\n  quorum: %d\n  fail: %s\n", cfg.Quorum, cfg.Fail)
	return b.Bytes()
}
