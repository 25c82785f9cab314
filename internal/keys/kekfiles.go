package keys

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/lbm-project/lbm/internal/store"
)

// KEK files. A node keeps its KEKs in its keys directory (DATA/keys):
//
//	kek               the first KEK, created with the data directory (as
//	                  before rotation existed, so that older data
//	                  directories open unchanged)
//	keks/HEX.key      a KEK made by rotation; HEX is its id after "local:"
//	keks/current      the id of the KEK that wraps new keys; when absent,
//	                  kek is current
//	keks/rotating     a rotation in progress: the id it rotates to
//
// Every file is mode 0600 in a 0700 directory. A KEK file holds 32 bytes
// in standard base64 and a newline, the form of LBM_KEK.
const (
	firstKEKFile = "kek"
	kekDir       = "keks"
	currentFile  = "current"
	rotatingFile = "rotating"
)

// kekFiles is what a keys directory holds.
type kekFiles struct {
	dir      string
	keks     map[string]*LocalKEK
	paths    map[string]string // by KEK id
	current  string            // "" when there is no KEK at all
	rotating string            // "" when no rotation is in progress
}

// readKEKFiles reads every KEK file of dir, checking that each rotated
// KEK's file name is its id and that the pointers name KEKs it holds.
func readKEKFiles(dir string) (*kekFiles, error) {
	f := &kekFiles{dir: dir, keks: map[string]*LocalKEK{}, paths: map[string]string{}}
	add := func(path string) (*LocalKEK, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading key-encryption key: %w", err)
		}
		k, err := ParseLocalKEK(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if other, dup := f.paths[k.ID()]; dup {
			return nil, fmt.Errorf("%s and %s hold the same key-encryption key", other, path)
		}
		f.keks[k.ID()], f.paths[k.ID()] = k, path
		return k, nil
	}
	first, err := add(filepath.Join(dir, firstKEKFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	names, err := filepath.Glob(filepath.Join(dir, kekDir, "*.key"))
	if err != nil {
		return nil, err
	}
	for _, path := range names {
		k, err := add(path)
		if err != nil {
			return nil, err
		}
		if want := kekFileName(k.ID()); filepath.Base(path) != want {
			return nil, fmt.Errorf("%s holds key-encryption key %s, whose file is %s", path, k.ID(), want)
		}
	}
	if f.current, err = f.pointer(currentFile); err != nil {
		return nil, err
	}
	if f.rotating, err = f.pointer(rotatingFile); err != nil {
		return nil, err
	}
	switch {
	case f.current != "":
	case first != nil:
		f.current = first.ID()
	case len(f.keks) > 0:
		return nil, fmt.Errorf("%s is missing: which key-encryption key is current?", filepath.Join(dir, kekDir, currentFile))
	}
	return f, nil
}

// pointer reads the KEK id in keks/name; "" when the file does not exist.
func (f *kekFiles) pointer(name string) (string, error) {
	path := filepath.Join(f.dir, kekDir, name)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(string(b))
	if _, ok := f.keks[id]; !ok {
		return "", fmt.Errorf("%s names key-encryption key %q, which no file in %s holds", path, id, f.dir)
	}
	return id, nil
}

// ring returns the ring of every KEK read, current first.
func (f *kekFiles) ring() (*KEKRing, error) {
	var older []KEK
	for id, k := range f.keks {
		if id != f.current {
			older = append(older, k)
		}
	}
	return NewKEKRing(f.keks[f.current], older...)
}

// kekFileName is the file name of a rotated KEK: its id without the
// "local:" prefix, which a file name on every system can hold.
func kekFileName(id string) string {
	return strings.TrimPrefix(id, "local:") + ".key"
}

// LoadKEKs reads the KEKs of the keys directory dir (DATA/keys): the
// current one and every older one still on disk. When dir holds no KEK it
// creates the first one (dir/kek, mode 0600) if create is set, and
// otherwise fails with an error wrapping fs.ErrNotExist.
func LoadKEKs(dir string, create bool) (*KEKRing, error) {
	f, err := readKEKFiles(dir)
	if err != nil {
		return nil, err
	}
	if f.current == "" {
		k, err := LoadOrCreateKEK(filepath.Join(dir, firstKEKFile), create)
		if err != nil {
			return nil, err
		}
		return NewKEKRing(k)
	}
	return f.ring()
}

// ParseKEKs returns the ring of KEKs given in text form (LBM_KEK and
// LBM_KEK_OLD): current wraps, old (when not empty) only unwraps.
func ParseKEKs(current, old string) (*KEKRing, error) {
	cur, err := ParseLocalKEK(current)
	if err != nil {
		return nil, fmt.Errorf("LBM_KEK: %w", err)
	}
	if old == "" {
		return NewKEKRing(cur)
	}
	o, err := ParseLocalKEK(old)
	if err != nil {
		return nil, fmt.Errorf("LBM_KEK_OLD: %w", err)
	}
	if o.ID() == cur.ID() {
		return nil, errors.New("LBM_KEK_OLD is LBM_KEK: give the new key as LBM_KEK and the one it replaces as LBM_KEK_OLD")
	}
	return NewKEKRing(cur, o)
}

// NewKEKText returns a fresh random KEK in text form, for an operator who
// keeps the KEK in LBM_KEK to put in their secret store.
func NewKEKText() string {
	key := make([]byte, 32)
	rand.Read(key)
	defer clear(key)
	return base64.StdEncoding.EncodeToString(key)
}

// BeginRotation starts a rotation of the KEKs in dir, or resumes the one
// in progress, and returns the ring to rewrap under: its current KEK is
// the new one.
//
// A new rotation makes a KEK and records it in three steps, each durable
// before the next: the key file keks/HEX.key, keks/rotating naming it,
// then keks/current naming it. Interrupted after the first, the new file
// wraps nothing and the next rotation's finish removes it; after the
// second, resuming completes the third. So a rotation never makes a second
// KEK while one is in progress, and a KEK that wraps anything is always on
// disk before it does.
func BeginRotation(dir string) (ring *KEKRing, resumed bool, err error) {
	f, err := readKEKFiles(dir)
	if err != nil {
		return nil, false, err
	}
	if f.current == "" {
		return nil, false, fmt.Errorf("%s holds no key-encryption key to rotate", dir)
	}
	to, resumed := f.rotating, f.rotating != ""
	if !resumed {
		k, err := writeNewKEK(filepath.Join(dir, kekDir))
		if err != nil {
			return nil, false, err
		}
		to = k.ID()
		if err := writePointer(dir, rotatingFile, to); err != nil {
			return nil, false, err
		}
	}
	if f.current != to {
		if err := writePointer(dir, currentFile, to); err != nil {
			return nil, false, err
		}
	}
	if f, err = readKEKFiles(dir); err != nil {
		return nil, false, err
	}
	ring, err = f.ring()
	return ring, resumed, err
}

// FinishRotation ends the rotation in progress in dir, once count (read
// after the rewrap) shows no live data key under any KEK but ring's
// current one. Unless keepOld is set it removes every older KEK file and
// returns the removed ids. Removing is enough: overwriting a file first
// does not reach the copies a journaling or copy-on-write file system, an
// SSD's wear levelling or a backup already made, so lbm does not pretend
// to (docs/keys.md).
func FinishRotation(dir string, ring *KEKRing, count store.KEKCount, keepOld bool) (removed []string, err error) {
	for id, n := range count.Live {
		if id != ring.ID() && n > 0 {
			return nil, fmt.Errorf("%d data keys are still wrapped by key-encryption key %s: run the rotation again", n, id)
		}
	}
	f, err := readKEKFiles(dir)
	if err != nil {
		return nil, err
	}
	if f.current != ring.ID() {
		return nil, fmt.Errorf("the current key-encryption key is %s, not %s: another rotation ran meanwhile", f.current, ring.ID())
	}
	if !keepOld {
		for id, path := range f.paths {
			if id == f.current {
				continue
			}
			if err := os.Remove(path); err != nil {
				return removed, fmt.Errorf("removing key-encryption key %s: %v", id, err)
			}
			removed = append(removed, id)
		}
		if err := syncDir(dir); err != nil {
			return removed, err
		}
		if err := syncDir(filepath.Join(dir, kekDir)); err != nil {
			return removed, err
		}
	}
	if err := os.Remove(filepath.Join(dir, kekDir, rotatingFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return removed, err
	}
	return removed, syncDir(filepath.Join(dir, kekDir))
}

// writeNewKEK makes a random KEK and writes it to dir/HEX.key, mode 0600,
// durably.
func writeNewKEK(dir string) (*LocalKEK, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %v", dir, err)
	}
	text := NewKEKText()
	k, err := ParseLocalKEK(text)
	if err != nil {
		return nil, err
	}
	if err := writeFileSync(filepath.Join(dir, kekFileName(k.ID())), []byte(text+"\n"), os.O_EXCL); err != nil {
		return nil, fmt.Errorf("writing key-encryption key: %v", err)
	}
	return k, syncDir(dir)
}

// writePointer replaces keys/keks/name with id, atomically: a crash leaves
// the old pointer or the new, never half of one.
func writePointer(dir, name, id string) error {
	d := filepath.Join(dir, kekDir)
	tmp := filepath.Join(d, name+".tmp")
	if err := writeFileSync(tmp, []byte(id+"\n"), os.O_TRUNC); err != nil {
		return fmt.Errorf("writing %s: %v", name, err)
	}
	if err := os.Rename(tmp, filepath.Join(d, name)); err != nil {
		return fmt.Errorf("writing %s: %v", name, err)
	}
	return syncDir(d)
}

// writeFileSync writes b to a file created with mode 0600 and flag, and
// syncs it.
func writeFileSync(path string, b []byte, flag int) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|flag, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a directory's new and removed entries durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %v", dir, err)
	}
	return nil
}

// Rotating returns the id of the KEK an unfinished rotation in the keys
// directory dir rotates to; "" when none is in progress.
func Rotating(dir string) (string, error) {
	f, err := readKEKFiles(dir)
	if err != nil {
		return "", err
	}
	return f.rotating, nil
}
