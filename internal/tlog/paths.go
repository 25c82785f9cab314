package tlog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// TilePath is a parsed tlog-tiles resource path: a hash tile
// "tile/<L>/<N>[.p/<W>]" or an entry bundle "tile/entries/<N>[.p/<W>]".
type TilePath struct {
	Entries bool   // an entry bundle rather than a hash tile
	Level   uint64 // hash tiles only
	Index   uint64
	Width   uint64 // 1..256; 256 for a full tile
}

// FormatTilePath returns p's path below the log's prefix.
func FormatTilePath(p TilePath) string {
	var b strings.Builder
	b.WriteString("tile/")
	if p.Entries {
		b.WriteString("entries/")
	} else {
		fmt.Fprintf(&b, "%d/", p.Level)
	}
	b.WriteString(formatIndex(p.Index))
	if p.Width < TileWidth {
		fmt.Fprintf(&b, ".p/%d", p.Width)
	}
	return b.String()
}

// formatIndex writes N as three-digit groups, all but the last prefixed "x".
func formatIndex(n uint64) string {
	s := fmt.Sprintf("%03d", n%1000)
	for n >= 1000 {
		n /= 1000
		s = fmt.Sprintf("x%03d/", n%1000) + s
	}
	return s
}

// ErrBadTilePath is returned (wrapped) by ParseTilePath.
var ErrBadTilePath = errors.New("bad tile path")

// maxTileLevel bounds L: 2^64 leaves need no more than 8 tile levels.
const maxTileLevel = 7

// ParseTilePath parses a path below the log's prefix. Only the canonical
// form parses: FormatTilePath(ParseTilePath(s)) == s.
func ParseTilePath(s string) (TilePath, error) {
	bad := func() (TilePath, error) { return TilePath{}, fmt.Errorf("%w: %q", ErrBadTilePath, s) }
	rest, ok := strings.CutPrefix(s, "tile/")
	if !ok {
		return bad()
	}
	var p TilePath
	first, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return bad()
	}
	if first == "entries" {
		p.Entries = true
	} else {
		l, err := strconv.ParseUint(first, 10, 8)
		if err != nil || strconv.FormatUint(l, 10) != first || l > maxTileLevel {
			return bad()
		}
		p.Level = l
	}
	p.Width = TileWidth
	if i := strings.Index(rest, ".p/"); i >= 0 {
		w, err := strconv.ParseUint(rest[i+3:], 10, 16)
		if err != nil || strconv.FormatUint(w, 10) != rest[i+3:] || w == 0 || w >= TileWidth {
			return bad()
		}
		p.Width, rest = w, rest[:i]
	}
	groups := strings.Split(rest, "/")
	for i, g := range groups {
		last := i == len(groups)-1
		if !last {
			var ok bool
			if g, ok = strings.CutPrefix(g, "x"); !ok {
				return bad()
			}
		}
		if len(g) != 3 || strings.Trim(g, "0123456789") != "" {
			return bad()
		}
		d, _ := strconv.ParseUint(g, 10, 64)
		if p.Index > (1<<64-1-d)/1000 {
			return bad()
		}
		p.Index = p.Index*1000 + d
	}
	if FormatTilePath(p) != s {
		return bad()
	}
	return p, nil
}
