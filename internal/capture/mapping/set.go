package mapping

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"sort"
	"strings"

	"github.com/lbm-project/lbm/internal/capture"
	"github.com/lbm-project/lbm/internal/safetext"
)

//go:embed builtin/*.yaml
var builtinFiles embed.FS

var builtins = func() map[capture.Input]*Mapping {
	out := map[capture.Input]*Mapping{}
	for _, in := range capture.Inputs {
		name := "builtin/" + string(in) + ".yaml"
		data, err := builtinFiles.ReadFile(name)
		if err != nil {
			panic(err)
		}
		m, err := Parse(name, data)
		if err != nil {
			panic(err)
		}
		if m.Input != in {
			panic(name + " maps another input")
		}
		out[in] = m
	}
	return out
}()

// Builtin returns the built-in mapping of an input.
func Builtin(in capture.Input) *Mapping { return builtins[in] }

// BuiltinYAML returns the built-in mapping file of an input, to start a
// source's own from.
func BuiltinYAML(in capture.Input) []byte {
	data, _ := builtinFiles.ReadFile("builtin/" + string(in) + ".yaml")
	return data
}

// MaxFiles bounds the mapping files of a directory.
const MaxFiles = 1000

// Set is the mappings in force: each source's own, else the built-in one
// of the input.
type Set struct {
	bySource map[string]*Mapping
	// digests are the SHA-256 (hex) of each source's file, as read.
	digests map[string]string
	// routes are the syslog mappings with match rules, in source order:
	// the first that matches a message takes it.
	routes []route
}

type route struct {
	source string
	m      *Mapping
}

// Load reads every SOURCE.yaml in fsys (DATA/mappings). Any bad file fails
// the whole load, naming it, so a typo never silently falls back to the
// built-in mapping.
func Load(fsys fs.FS) (*Set, error) {
	s := &Set{bySource: map[string]*Mapping{}, digests: map[string]string{}}
	entries, err := fs.ReadDir(fsys, ".")
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	if len(entries) > MaxFiles {
		return nil, fmt.Errorf("more than %d mapping files", MaxFiles)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		if path.Ext(name) != ".yaml" {
			return nil, fmt.Errorf("%s: a mapping file is SOURCE.yaml", safetext.Quote(name))
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		m, err := Parse(name, data)
		if err != nil {
			return nil, err
		}
		source := strings.TrimSuffix(name, ".yaml")
		s.bySource[source] = m
		sum := sha256.Sum256(data)
		s.digests[source] = hex.EncodeToString(sum[:])
		if m.Input == capture.Syslog && (len(m.Match.Hosts) > 0 || len(m.Match.Apps) > 0) {
			s.routes = append(s.routes, route{source, m})
		}
	}
	sort.Slice(s.routes, func(i, j int) bool { return s.routes[i].source < s.routes[j].source })
	return s, nil
}

// Sources lists the sources with their own mapping, in order.
func (s *Set) Sources() []string { return sortedKeys(s.bySource) }

// Digests returns, for each source with its own mapping, the SHA-256
// (hex) of its file as read: what the oversight log records as in force.
func (s *Set) Digests() map[string]string { return maps.Clone(s.digests) }

// For returns the mapping of a source's records of an input.
func (s *Set) For(source string, in capture.Input) *Mapping {
	if m, ok := s.bySource[source]; ok && m.Input == in {
		return m
	}
	return builtins[in]
}

// RateLimit returns a source's limit (zero: none), whatever the input.
func (s *Set) RateLimit(source string) RateLimit {
	if m, ok := s.bySource[source]; ok {
		return m.RateLimit
	}
	return RateLimit{}
}

// Route names the source whose syslog mapping matches rec, if any.
func (s *Set) Route(rec capture.Record) (string, bool) {
	for _, r := range s.routes {
		if r.m.Matches(rec) {
			return r.source, true
		}
	}
	return "", false
}
