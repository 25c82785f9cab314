//go:build unix

package server

import (
	"errors"
	"testing"
)

// TestRotateKEKRefusedWhileLocked: a rotation never runs beside a process
// that holds the data directory (a server), and changes nothing then.
func TestRotateKEKRefusedWhileLocked(t *testing.T) {
	dir := t.TempDir()
	n, err := Open(t.Context(), Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	n.Close()
	unlock, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockDataDir(dir); !errors.Is(err, ErrLocked) {
		t.Errorf("a second lockDataDir = %v, want ErrLocked", err)
	}
	if _, err := RotateKEK(t.Context(), RotateConfig{Node: Config{DataDir: dir}}); !errors.Is(err, ErrLocked) {
		t.Errorf("RotateKEK while locked = %v, want ErrLocked", err)
	}
	st, err := StatusOfKEKs(t.Context(), Config{DataDir: dir})
	if err != nil || len(st.Older) != 0 || st.Rotating != "" {
		t.Errorf("after a refused rotation: %+v, %v; want the one KEK, no rotation begun", st, err)
	}
	unlock()
	if _, err := RotateKEK(t.Context(), RotateConfig{Node: Config{DataDir: dir}}); err != nil {
		t.Errorf("RotateKEK once unlocked = %v", err)
	}
}
