package server_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/keys"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/store/postgres/pgtest"
)

// kekFixture opens a node on cfg, logs content over three months, enrols
// a second factor, and returns what the activity log reads back as.
func kekFixture(t *testing.T, cfg server.Config) []readBack {
	t.Helper()
	n, err := server.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	for m := range 3 {
		ingestContent(t, n, time.Date(2026, time.Month(8+m), 3, 9, 0, 0, 0, time.UTC), m*10, 10)
	}
	if _, _, err := n.Store.PutPeople(t.Context(), []store.Person{{ID: "ann", Name: "Ann", Roles: []string{"staff"}}}); err != nil {
		t.Fatal(err)
	}
	if err := identity.SetPassword(t.Context(), n.Store, n.KEK, "ann", "a long enough password", identity.NewTOTPSecret(), n.Now()); err != nil {
		t.Fatal(err)
	}
	return readActivity(t, n)
}

// checkRotated: a node opened on cfg reads back want, and its KEK alone
// wraps every data key and second factor.
func checkRotated(t *testing.T, cfg server.Config, want []readBack) {
	t.Helper()
	n, err := server.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if diff := cmp.Diff(want, readActivity(t, n), cmp.AllowUnexported(readBack{})); diff != "" {
		t.Errorf("activity after the rotation (-before +after):\n%s", diff)
	}
	alone, err := keys.NewKEKRing(n.KEK.Current())
	if err != nil {
		t.Fatal(err)
	}
	if moved, err := identity.RewrapSecondFactors(t.Context(), n.Store, alone); err != nil || moved != 0 {
		t.Errorf("second factors under the new KEK alone: %d to move, %v; want all there", moved, err)
	}
}

// TestRotateKEKFiles rotates a KEK kept in files, on each engine.
func TestRotateKEKFiles(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		testRotateKEKFiles(t, server.Config{DataDir: t.TempDir()})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn, keysDSN := pgtest.Databases(t)
		testRotateKEKFiles(t, server.Config{DataDir: t.TempDir(), DB: dsn, KeysDB: keysDSN})
	})
}

func testRotateKEKFiles(t *testing.T, cfg server.Config) {
	dir := cfg.DataDir
	before := kekFixture(t, cfg)
	old, err := server.StatusOfKEKs(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var seen [][2]int
	res, err := server.RotateKEK(t.Context(), server.RotateConfig{Node: cfg, Batch: 2,
		Progress: func(done, total int) { seen = append(seen, [2]int{done, total}) }})
	if err != nil {
		t.Fatalf("RotateKEK = %v", err)
	}
	total := old.Count.Live[old.Current]
	if res.To == old.Current || res.DataKeys != total || res.SecondFactors != 1 || !slices.Equal(res.Removed, []string{old.Current}) || res.NewKEK != "" {
		t.Errorf("RotateKEK = %+v; want %d data keys and 1 second factor moved, %s removed", res, total, old.Current)
	}
	if len(seen) < 2 || seen[len(seen)-1] != [2]int{total, total} {
		t.Errorf("progress %v, want batches ending at %d of %d", seen, total, total)
	}
	st, err := server.StatusOfKEKs(t.Context(), cfg)
	want := server.KEKStatus{Current: res.To, Count: store.KEKCount{Live: map[string]int{res.To: total}}}
	if err != nil || !cmp.Equal(want, st) {
		t.Errorf("StatusOfKEKs after = %+v, %v; want %+v", st, err, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "keys", "kek")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the old KEK file after the rotation: %v, want removed", err)
	}
	for _, p := range []string{"keys/keks/current", "keys/keks/" + res.To[len("local:"):] + ".key"} {
		if info, err := os.Stat(filepath.Join(dir, p)); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want mode 0600", p, info, err)
		}
	}
	checkRotated(t, cfg, before)
}

func TestRotateKEKEnvironment(t *testing.T) {
	oldText, newText := keys.NewKEKText(), keys.NewKEKText()
	dir := t.TempDir()
	before := kekFixture(t, server.Config{DataDir: dir, KEK: oldText})
	// Without LBM_KEK_OLD, a new KEK to set, and nothing changed.
	res, err := server.RotateKEK(t.Context(), server.RotateConfig{Node: server.Config{DataDir: dir, KEK: oldText}})
	if err != nil || res.NewKEK == "" || res.DataKeys != 0 {
		t.Fatalf("RotateKEK with LBM_KEK alone = %+v, %v; want a new KEK and nothing done", res, err)
	}
	if _, err := keys.ParseLocalKEK(res.NewKEK); err != nil {
		t.Errorf("the new KEK offered does not parse: %v", err)
	}
	cfg := server.Config{DataDir: dir, KEK: newText, KEKOld: oldText}
	res, err = server.RotateKEK(t.Context(), server.RotateConfig{Node: cfg})
	oldKEK, _ := keys.ParseLocalKEK(oldText)
	if err != nil || res.DataKeys == 0 || res.SecondFactors != 1 || len(res.Removed) != 0 || !slices.Equal(res.Kept, []string{oldKEK.ID()}) {
		t.Fatalf("RotateKEK(new, old) = %+v, %v; want everything moved and the old kept for the operator to remove", res, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "keys", "keks")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a rotation from the environment wrote KEK files: %v", err)
	}
	checkRotated(t, server.Config{DataDir: dir, KEK: newText}, before)
	// The old KEK alone no longer opens the store's content.
	n, err := server.Open(t.Context(), server.Config{DataDir: dir, KEK: oldText})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	var uerr *keys.UnknownKEKError
	if _, err := n.Ring.ByID(t.Context(), firstKeyID(t, n)); !errors.As(err, &uerr) {
		t.Errorf("ByID under the old KEK alone = %v, want an UnknownKEKError", err)
	}
	for _, bad := range []server.Config{{DataDir: dir, KEKOld: oldText}, {DataDir: dir, KEK: newText, KEKOld: newText}} {
		if _, err := server.RotateKEK(t.Context(), server.RotateConfig{Node: bad}); err == nil {
			t.Errorf("RotateKEK(LBM_KEK set %v, LBM_KEK_OLD set %v, same %v) succeeded", bad.KEK != "", bad.KEKOld != "", bad.KEK == bad.KEKOld)
		}
	}
}

func firstKeyID(t *testing.T, n *server.Node) []byte {
	t.Helper()
	en, err := n.Store.Entries(t.Context(), server.Activity, 0, 1)
	if err != nil || len(en) == 0 {
		t.Fatalf("Entries = %v", err)
	}
	return en[0].KeyID
}

// TestRotateKEKFilesToEnvironment follows docs/keys.md to move a KEK
// kept in a file into LBM_KEK.
func TestRotateKEKFilesToEnvironment(t *testing.T) {
	dir := t.TempDir()
	before := kekFixture(t, server.Config{DataDir: dir})
	b, err := os.ReadFile(filepath.Join(dir, "keys", "kek"))
	if err != nil {
		t.Fatal(err)
	}
	fileKEK := string(b)
	res, err := server.RotateKEK(t.Context(), server.RotateConfig{Node: server.Config{DataDir: dir, KEK: fileKEK}})
	if err != nil || res.NewKEK == "" {
		t.Fatalf("RotateKEK with LBM_KEK the file's = %+v, %v; want a new KEK offered", res, err)
	}
	newKEK := res.NewKEK
	if res, err = server.RotateKEK(t.Context(), server.RotateConfig{Node: server.Config{DataDir: dir, KEK: newKEK, KEKOld: fileKEK}}); err != nil || res.DataKeys == 0 {
		t.Fatalf("RotateKEK(new, the file's) = %+v, %v; want every key moved", res, err)
	}
	os.Remove(filepath.Join(dir, "keys", "kek"))
	checkRotated(t, server.Config{DataDir: dir, KEK: newKEK}, before)
}
