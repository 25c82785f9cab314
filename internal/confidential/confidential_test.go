package confidential

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lbm-project/lbm/internal/event"
)

const sample = `channels:
  - kind: legal_privilege
    name: Force Solicitor
    addresses: [legal@police.example, "@solicitors.example"]
  - kind: health
    name: Occupational health
    hosts: [ohcounselling.example]
  - kind: union
    name: Police Federation
    addresses: ["@polfed.example"]
markers:
  - kind: legal_privilege
    phrase: Legally Privileged
`

func fields(t *testing.T, kv ...any) []event.Field {
	t.Helper()
	var fs []event.Field
	for i := 0; i+1 < len(kv); i += 2 {
		b, err := json.Marshal(kv[i+1])
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, event.Field{Name: kv[i].(string), Value: b})
	}
	return fs
}

func TestMatch(t *testing.T) {
	m, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		fs   []event.Field
		want []Hit
	}{
		{"an address", fields(t, "email.to.address", []string{"a@police.example", "Legal@Police.Example"}), []Hit{{"legal_privilege", "Force Solicitor"}}},
		{"a domain", fields(t, "email.from.address", "rep@polfed.example"), []Hit{{"union", "Police Federation"}}},
		{"a subdomain of a host", fields(t, "url.domain", "www.ohcounselling.example"), []Hit{{"health", "Occupational health"}}},
		{"a marker in content", fields(t, "content.body", "This advice is LEGALLY\n privileged."), []Hit{{"legal_privilege", "Legally Privileged"}}},
		{"two hits, each once", fields(t, "email.to.address", []string{"legal@police.example", "x@solicitors.example"}, "content.subject", "legally privileged"),
			[]Hit{{"legal_privilege", "Force Solicitor"}, {"legal_privilege", "Legally Privileged"}}},
		{"a lookalike domain", fields(t, "email.to.address", "a@polfed.example.evil", "url.domain", "notohcounselling.example"), nil},
		{"an address in a field that is not one", fields(t, "user.id", "legal@police.example"), nil},
		{"half a phrase", fields(t, "content.body", "legally speaking, privileged"), nil},
		{"nothing", fields(t, "event.action", "send"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := m.Match(tt.fs)
			if len(got) != len(tt.want) {
				t.Fatalf("Match = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("Match = %v, want %v", got, tt.want)
				}
			}
		})
	}
	var none *Matcher
	if none.Match(fields(t, "email.to.address", "legal@police.example")) != nil {
		t.Error("no configuration matched something")
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"an unknown key", "channels:\n  - kind: health\n    name: OH\n    hosts: [a.example]\n    colour: red\n", "colour"},
		{"an unknown kind", "channels:\n  - kind: gossip\n    name: X\n    hosts: [a.example]\n", "gossip"},
		{"no name", "channels:\n  - kind: health\n    hosts: [a.example]\n", "name"},
		{"no address or host", "channels:\n  - kind: health\n    name: OH\n", "no address or host"},
		{"a bad address", "channels:\n  - kind: health\n    name: OH\n    addresses: [not-an-address]\n", "not an address"},
		{"a bad host", "channels:\n  - kind: health\n    name: OH\n    hosts: [\"a b.example\"]\n", "not a host"},
		{"an empty marker", "markers:\n  - kind: health\n    phrase: \"  \"\n", "phrase"},
		{"an alias", "channels:\n  - &a {kind: health, name: OH, hosts: [a.example]}\n  - *a\n", "not allowed"},
		{"a control character", "channels:\n  - kind: health\n    name: \"O\\u202eH\"\n    hosts: [a.example]\n", "plain text"},
		{"not UTF-8", "channels: \xff", "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse = %v, want an error about %q", err, tt.want)
			}
		})
	}
	if m, err := Parse(nil); err != nil || m.Match(fields(t, "content.body", "legally privileged")) != nil {
		t.Errorf("an empty file = %v, %v", m, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("markers:\n  - kind: union\n    phrase: staff side\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		// Whatever parses matches without failing, and every hit is of a
		// known kind.
		for _, h := range m.Match(fields(t, "email.to.address", "a@b.example", "url.domain", "b.example", "content.body", string(data))) {
			if !strings.Contains(strings.Join(Kinds, " "), h.Kind) {
				t.Fatalf("hit of kind %q", h.Kind)
			}
		}
	})
}
