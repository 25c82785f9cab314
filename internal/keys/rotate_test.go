package keys

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// sealedContent is what one data key encrypted before a rotation.
type sealedContent struct {
	id  []byte
	raw []byte // the key's search key, standing for its bytes
	ct  []byte
}

// fillKeys makes n data keys under ring's current KEK and seals a message
// under each.
func fillKeys(t *testing.T, ring KEK, st *memKeys, n int) []sealedContent {
	t.Helper()
	r := NewRing(ring, st, now)
	var out []sealedContent
	for i := range n {
		k, err := r.For(t.Context(), fmt.Sprint("person-", i), "", now())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sealedContent{id: k.ID, raw: k.search, ct: k.Seal(fmt.Appendf(nil, "message %d", i), k.ID)})
	}
	return out
}

// checkContent: a fresh ring over the KEKs in dir (a restarted node) opens
// every message, with the key bytes it had before.
func checkContent(t *testing.T, dir string, st *memKeys, want []sealedContent) {
	t.Helper()
	keks, err := LoadKEKs(dir, false)
	if err != nil {
		t.Fatalf("LoadKEKs = %v", err)
	}
	r := NewRing(keks, st, now)
	for i, c := range want {
		k, err := r.ByID(t.Context(), c.id)
		if err != nil {
			t.Fatalf("ByID(%x) = %v", c.id, err)
		}
		if string(k.search) != string(c.raw) {
			t.Errorf("data key %x unwraps to other bytes than before", c.id)
		}
		if pt, err := k.Open(c.ct, c.id); err != nil || string(pt) != fmt.Sprint("message ", i) {
			t.Errorf("Open under data key %x = %q, %v", c.id, pt, err)
		}
	}
}

func kekFileNames(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			names = append(names, rel)
			if info, _ := d.Info(); info.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %v, want 0600", rel, info.Mode().Perm())
			}
		}
		return nil
	})
	slices.Sort(names)
	return names
}

// TestRotateInterruptedResumes interrupts a rotation after its first
// batch, restarts it, and checks every key and message survives, the old
// KEK file goes, and no second new KEK is made.
func TestRotateInterruptedResumes(t *testing.T) {
	dir := t.TempDir()
	first, err := LoadKEKs(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	st := &memKeys{}
	content := fillKeys(t, first, st, 7)
	// A destroyed key stays destroyed through the rotation.
	st.keys = append(st.keys, st.keys[0])
	st.keys[len(st.keys)-1].ID, st.keys[len(st.keys)-1].Subject = []byte("destroyed-key-id"), "gone"
	st.keys[len(st.keys)-1].Wrapped, st.keys[len(st.keys)-1].Destroyed = nil, now()

	ring, resumed, err := BeginRotation(dir)
	if err != nil || resumed {
		t.Fatalf("BeginRotation = resumed %v, %v; want a new rotation", resumed, err)
	}
	if ring.ID() == first.ID() {
		t.Fatal("BeginRotation kept the old KEK current")
	}
	if info, err := os.Stat(filepath.Join(dir, kekDir)); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("keys/keks: %v, %v; want a directory of mode 0700", info, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	n, err := Rewrap(ctx, st, ring, RewrapOptions{Batch: 3, Progress: func(int) { cancel() }})
	if !errors.Is(err, context.Canceled) || n != 3 {
		t.Fatalf("interrupted Rewrap = %d, %v; want 3 and context.Canceled", n, err)
	}
	c, _ := st.CountDataKeys(t.Context())
	if c.Live[first.ID()] != 4 || c.Live[ring.ID()] != 3 || c.Destroyed != 1 {
		t.Fatalf("after the interruption: %+v; want 4 under the old KEK, 3 under the new, 1 destroyed", c)
	}
	// Midway, a restarted node opens keys under both KEKs.
	checkContent(t, dir, st, content)
	if _, err := FinishRotation(dir, ring, c, false); err == nil {
		t.Error("FinishRotation with keys left under the old KEK succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, firstKEKFile)); err != nil {
		t.Errorf("a refused finish removed the old KEK: %v", err)
	}

	// A crash after keks/rotating was written but before keks/current was.
	os.Remove(filepath.Join(dir, kekDir, currentFile))
	files := kekFileNames(t, dir)
	again, resumed, err := BeginRotation(dir)
	if err != nil || !resumed || again.ID() != ring.ID() {
		t.Fatalf("BeginRotation again = %v, resumed %v, %v; want to resume to %s", again.ID(), resumed, err, ring.ID())
	}
	if got := kekFileNames(t, dir); len(got) != len(files)+1 || !slices.Contains(got, filepath.Join(kekDir, currentFile)) {
		t.Errorf("resuming wrote %v (had %v); want only keks/current back, no new KEK", got, files)
	}
	if n, err = Rewrap(t.Context(), st, again, RewrapOptions{Batch: 3}); err != nil || n != 4 {
		t.Fatalf("resumed Rewrap = %d, %v; want the 4 left", n, err)
	}
	c, _ = st.CountDataKeys(t.Context())
	removed, err := FinishRotation(dir, again, c, false)
	if err != nil || !slices.Equal(removed, []string{first.ID()}) {
		t.Fatalf("FinishRotation = %v, %v; want %s removed", removed, err, first.ID())
	}
	want := []string{filepath.Join(kekDir, currentFile), filepath.Join(kekDir, kekFileName(again.ID()))}
	slices.Sort(want)
	if got := kekFileNames(t, dir); !slices.Equal(got, want) {
		t.Errorf("files after the rotation = %v, want %v", got, want)
	}
	checkContent(t, dir, st, content)
	keks, _ := LoadKEKs(dir, false)
	if len(keks.Older()) != 0 || keks.ID() != again.ID() {
		t.Errorf("KEKs after the rotation: current %s, %d older; want %s alone", keks.ID(), len(keks.Older()), again.ID())
	}
	destroyed, _ := st.DataKeyByID(t.Context(), []byte("destroyed-key-id"))
	if destroyed.Wrapped != nil || destroyed.Destroyed.IsZero() {
		t.Errorf("the destroyed key after the rotation = %+v, want still destroyed", destroyed)
	}
	if _, err := NewRing(keks, st, now).ByID(t.Context(), destroyed.ID); !errors.Is(err, ErrDestroyed) {
		t.Errorf("ByID of the destroyed key = %v, want ErrDestroyed", err)
	}
	// A second rotation, keeping the old KEK, leaves it loadable.
	next, _, err := BeginRotation(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Rewrap(t.Context(), st, next, RewrapOptions{}); err != nil {
		t.Fatal(err)
	}
	c, _ = st.CountDataKeys(t.Context())
	if removed, err := FinishRotation(dir, next, c, true); err != nil || len(removed) != 0 {
		t.Errorf("FinishRotation keeping the old = %v, %v; want none removed", removed, err)
	}
	if keks, err := LoadKEKs(dir, false); err != nil || keks.ID() != next.ID() || len(keks.Older()) != 1 {
		t.Errorf("LoadKEKs after keeping the old = %v; want the new current and the old kept", err)
	}
	if _, err := os.Stat(filepath.Join(dir, kekDir, rotatingFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("keks/rotating after the finish: %v, want gone", err)
	}
	checkContent(t, dir, st, content)
}

func TestRewrapRefuses(t *testing.T) {
	old, cur, gone := testKEK(t, 1), testKEK(t, 2), testKEK(t, 3)
	ring, _ := NewKEKRing(cur, old)
	t.Run("a key under a KEK the ring lacks", func(t *testing.T) {
		st := &memKeys{}
		fillKeys(t, old, st, 2)
		NewRing(gone, st, now).For(t.Context(), "elsewhere", "", now())
		n, err := Rewrap(t.Context(), st, ring, RewrapOptions{})
		var uerr *UnknownKEKError
		if !errors.As(err, &uerr) || uerr.ID != gone.ID() || n != 0 {
			t.Errorf("Rewrap = %d, %v; want 0 and an UnknownKEKError naming %s", n, err, gone.ID())
		}
		if c, _ := st.CountDataKeys(t.Context()); c.Live[old.ID()] != 2 {
			t.Errorf("after a refused rewrap: %+v; want nothing moved", c)
		}
	})
	t.Run("a tampered key", func(t *testing.T) {
		st := &memKeys{}
		fillKeys(t, old, st, 3)
		st.keys[1].Wrapped = st.keys[0].Wrapped // another row's wrapped key
		if _, err := Rewrap(t.Context(), st, ring, RewrapOptions{Batch: 1}); !errors.Is(err, ErrDecrypt) {
			t.Errorf("Rewrap over a tampered row = %v, want ErrDecrypt", err)
		}
		if k, _ := st.DataKeyByID(t.Context(), st.keys[1].ID); k.KEKID != old.ID() {
			t.Errorf("the tampered row was rewrapped under %s", k.KEKID)
		}
	})
}

// TestLoadKEKsRefuses: a keys directory LoadKEKs cannot make sense of is
// refused, never read as some other current KEK.
func TestLoadKEKsRefuses(t *testing.T) {
	a, b := NewKEKText(), NewKEKText()
	ka, _ := ParseLocalKEK(a)
	kb, _ := ParseLocalKEK(b)
	tests := []struct {
		name  string
		files map[string]string
	}{
		{"a rotated KEK under another's name", map[string]string{
			"keks/" + kekFileName(ka.ID()): b, "keks/current": kb.ID()}},
		{"current naming a KEK no file holds", map[string]string{
			"kek": a, "keks/current": kb.ID()}},
		{"rotating naming a KEK no file holds", map[string]string{
			"kek": a, "keks/rotating": kb.ID()}},
		{"rotated KEKs and no current", map[string]string{
			"keks/" + kekFileName(kb.ID()): b}},
		{"one KEK in two files", map[string]string{
			"kek": a, "keks/" + kekFileName(ka.ID()): a, "keks/current": ka.ID()}},
		{"a KEK that is not one", map[string]string{"kek": "AAAA"}},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		os.Mkdir(filepath.Join(dir, kekDir), 0o700)
		for name, text := range tt.files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if k, err := LoadKEKs(dir, true); err == nil {
			t.Errorf("LoadKEKs with %s = current %s, want an error", tt.name, k.ID())
		}
		if _, _, err := BeginRotation(dir); err == nil {
			t.Errorf("BeginRotation with %s succeeded", tt.name)
		}
	}
	if _, err := LoadKEKs(t.TempDir(), false); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadKEKs(empty, create=false) = %v, want ErrNotExist", err)
	}
	if _, _, err := BeginRotation(t.TempDir()); err == nil {
		t.Error("BeginRotation with no KEK succeeded")
	}
}

func TestParseKEKs(t *testing.T) {
	a, b := NewKEKText(), NewKEKText()
	r, err := ParseKEKs(a, b)
	ka, _ := ParseLocalKEK(a)
	kb, _ := ParseLocalKEK(b)
	if err != nil || r.ID() != ka.ID() || len(r.Older()) != 1 || r.Older()[0].ID() != kb.ID() {
		t.Fatalf("ParseKEKs(new, old) = %v; want new current, old older", err)
	}
	for _, tt := range [][2]string{{a, a}, {"", b}, {a, "not base64!"}, {"AAAA", ""}} {
		if _, err := ParseKEKs(tt[0], tt[1]); err == nil {
			t.Errorf("ParseKEKs(%q, %q) succeeded", tt[0], tt[1])
		}
	}
}
