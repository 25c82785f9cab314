package tlog

import (
	"bytes"
	"testing"
)

func TestDeriveKey(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, 32)
	skey, vkey, err := DeriveKey(seed, "lbm.example/activity-1")
	if err != nil {
		t.Fatal(err)
	}
	// The pair works: what the private key signs, the verifier key opens.
	s, err := NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := s.Sign(Checkpoint{Origin: "lbm.example/activity-1", Size: 3, Root: EmptyRoot()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenCheckpoint(signed, vkey); err != nil {
		t.Fatalf("the derived verifier key does not open what the derived key signed: %v", err)
	}
	if v, err := VerifierKey(skey); err != nil || v != vkey {
		t.Errorf("VerifierKey(derived private key) = %q, %v; want %q", v, err, vkey)
	}
	for _, tt := range []struct {
		name   string
		seed   []byte
		origin string
		same   bool
	}{
		{"same seed and origin", seed, "lbm.example/activity-1", true},
		{"another origin", seed, "lbm.example/activity-2", false},
		{"another seed", bytes.Repeat([]byte{8}, 32), "lbm.example/activity-1", false},
	} {
		_, v, err := DeriveKey(tt.seed, tt.origin)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if (v == vkey) != tt.same {
			t.Errorf("%s: key %q, first %q: same = %v, want %v", tt.name, v, vkey, v == vkey, tt.same)
		}
	}
	if _, _, err := DeriveKey(seed[:31], "lbm.example/activity-1"); err == nil {
		t.Error("a 31-byte seed was accepted")
	}
}
