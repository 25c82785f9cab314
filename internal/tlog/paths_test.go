package tlog

import (
	"bytes"
	"errors"
	"testing"
)

func TestTilePaths(t *testing.T) {
	for _, c := range []struct {
		p    TilePath
		path string
	}{
		{TilePath{Level: 0, Index: 0, Width: 256}, "tile/0/000"},
		{TilePath{Level: 1, Index: 1234067, Width: 256}, "tile/1/x001/x234/067"},
		{TilePath{Level: 0, Index: 5, Width: 17}, "tile/0/005.p/17"},
		{TilePath{Entries: true, Index: 1000, Width: 256}, "tile/entries/x001/000"},
		{TilePath{Entries: true, Index: 0, Width: 1}, "tile/entries/000.p/1"},
	} {
		if got := FormatTilePath(c.p); got != c.path {
			t.Errorf("FormatTilePath(%+v) = %q, want %q", c.p, got, c.path)
		}
		got, err := ParseTilePath(c.path)
		if err != nil || got != c.p {
			t.Errorf("ParseTilePath(%q) = %+v, %v; want %+v", c.path, got, err, c.p)
		}
	}
	for _, bad := range []string{"", "tile/", "tile/0/", "tile/0/1", "tile/0/0000", "tile/0/001.p/0", "tile/0/001.p/256",
		"tile/0/001.p/01", "tile/8/000", "tile/01/000", "tile/0/001/002", "tile/0/x001", "tile/-1/000", "tile/entries/000.p/",
		"tile/0/x000/001", "tile/0/x018/x446/x744/x073/x709/x551/616", "tile/x/000", "tile/0/00a"} {
		if p, err := ParseTilePath(bad); !errors.Is(err, ErrBadTilePath) {
			t.Errorf("ParseTilePath(%q) = %+v, %v; want ErrBadTilePath", bad, p, err)
		}
	}
}

func FuzzParseTilePath(f *testing.F) {
	for _, s := range []string{"tile/0/000", "tile/1/x001/x234/067", "tile/entries/005.p/17", "tile/0/x000/001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseTilePath(s)
		if err != nil {
			return
		}
		if got := FormatTilePath(p); got != s {
			t.Fatalf("FormatTilePath(ParseTilePath(%q)) = %q", s, got)
		}
		if p.Width == 0 || p.Width > TileWidth || p.Level > maxTileLevel {
			t.Fatalf("ParseTilePath(%q) = %+v out of range", s, p)
		}
	})
}

func TestCheckpointRoundTripAndSignature(t *testing.T) {
	skey, vkey, err := GenerateKey("example.org/log")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	c := Checkpoint{Origin: "example.org/log", Size: 42, Root: bytes.Repeat([]byte{9}, 32)}
	note, err := s.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := OpenCheckpoint(note, vkey)
	if err != nil || got.Size != 42 || !bytes.Equal(got.Root, c.Root) || got.Origin != c.Origin {
		t.Fatalf("OpenCheckpoint = %+v, %v; want %+v", got, err, c)
	}
	derived, err := VerifierKey(skey)
	if err != nil || derived != vkey {
		t.Errorf("VerifierKey(skey) = %q, %v; want %q", derived, err, vkey)
	}
	tampered := bytes.Replace(note, []byte("\n42\n"), []byte("\n43\n"), 1)
	if _, err := OpenCheckpoint(tampered, vkey); err == nil {
		t.Error("OpenCheckpoint accepted an edited size")
	}
	_, otherV, _ := GenerateKey("example.org/log")
	if _, err := OpenCheckpoint(note, otherV); err == nil {
		t.Error("OpenCheckpoint accepted a signature by another key of the same name")
	}
	if _, err := s.Sign(Checkpoint{Origin: "other", Size: 1, Root: c.Root}); err == nil {
		t.Error("Sign accepted another origin")
	}
}

func FuzzParseCheckpoint(f *testing.F) {
	f.Add([]byte("example.org/log\n42\nCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=\n"))
	f.Add([]byte("o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\nextension\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCheckpoint(b)
		if err != nil {
			return
		}
		again, err := ParseCheckpoint(FormatCheckpoint(c))
		if err != nil || again.Size != c.Size || !bytes.Equal(again.Root, c.Root) || again.Origin != c.Origin {
			t.Fatalf("checkpoint %q does not survive Format/Parse: %+v, %v", b, again, err)
		}
		if len(c.Root) != HashSize {
			t.Fatalf("root of %d bytes accepted", len(c.Root))
		}
	})
}
