package store

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// TestReadInParts checks that the parts cover every row once, in order,
// that a small page is one part, and that an error ends the read.
func TestReadInParts(t *testing.T) {
	for _, tt := range []struct{ n, parts int }{
		{0, 0}, {1, 1}, {16, 1}, {17, 2}, {64, 4}, {100, 4}, {1001, 4},
	} {
		var mu sync.Mutex
		got := map[int][2]int{}
		err := ReadInParts(t.Context(), tt.n, func(_ context.Context, part, lo, hi int) error {
			mu.Lock()
			defer mu.Unlock()
			got[part] = [2]int{lo, hi}
			return nil
		})
		if err != nil {
			t.Errorf("n=%d: ReadInParts = %v", tt.n, err)
		}
		if len(got) != tt.parts || (tt.n > 0 && Parts(tt.n) != tt.parts) {
			t.Errorf("n=%d: %d parts (Parts says %d), want %d", tt.n, len(got), Parts(tt.n), tt.parts)
		}
		next := 0
		for p := range len(got) {
			r, ok := got[p]
			if !ok || r[0] != next || r[1] <= r[0] {
				t.Errorf("n=%d: part %d is %v, want [%d, ...)", tt.n, p, r, next)
				break
			}
			next = r[1]
		}
		if len(got) > 0 && next != tt.n {
			t.Errorf("n=%d: parts end at %d", tt.n, next)
		}
	}

	boom := errors.New("boom")
	err := ReadInParts(t.Context(), 100, func(ctx context.Context, part, lo, hi int) error {
		if part == 2 {
			return boom
		}
		<-ctx.Done() // the others are cancelled by the failure
		return ctx.Err()
	})
	if !errors.Is(err, boom) {
		t.Errorf("ReadInParts with a failing part = %v, want %v", err, boom)
	}
}
