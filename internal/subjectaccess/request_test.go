package subjectaccess

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/store/sqlite"
)

type recorder struct{ leaves []string }

func (r *recorder) record(_ context.Context, actor, action string, _ map[string]any) (uint64, error) {
	r.leaves = append(r.leaves, actor+" "+action)
	return uint64(len(r.leaves) - 1), nil
}

func TestMake(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, _, err := st.PutPeople(ctx, []store.Person{{ID: "a", Name: "A", Updated: t0}}); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	for _, tc := range []struct {
		name, details string
	}{
		{"too long", strings.Repeat("x", MaxDetails+1)},
		{"control character", "my data\x00please"},
		{"bidi override", "my data \u202e please"},
		{"invalid UTF-8", "my data \xff"},
	} {
		var de *DetailsError
		if _, err := Make(ctx, st, rec.record, "a", tc.details, t0); !errors.As(err, &de) {
			t.Errorf("%s: Make = %v, want a DetailsError", tc.name, err)
		}
	}
	if _, err := Make(ctx, st, rec.record, "nobody", "", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a request by someone not in the directory = %v, want ErrNotFound", err)
	}
	if qs, _ := st.ListSubjectAccessRequests(ctx, ""); len(qs) != 0 || len(rec.leaves) != 0 {
		t.Fatalf("refused requests stored %d requests and %d leaves", len(qs), len(rec.leaves))
	}
	q, err := Make(ctx, st, rec.record, "a", "  All my e-mail metadata\r\nfrom 2025.  ", t0)
	if err != nil {
		t.Fatal(err)
	}
	if q.Details != "All my e-mail metadata\nfrom 2025." || q.State != string(Received) || q.Person != "a" || len(q.ID) != 24 ||
		q.Due.Format(time.DateOnly) != "2027-02-28" {
		t.Errorf("request = %+v", q)
	}
	if qs, _ := st.ListSubjectAccessRequests(ctx, "a"); len(qs) != 1 || qs[0].ID != q.ID || !qs[0].Due.Equal(q.Due) {
		t.Errorf("a's requests = %+v, want the one made", qs)
	}
	if len(rec.leaves) != 1 || rec.leaves[0] != "a subject_access_requested" {
		t.Errorf("oversight leaves %q", rec.leaves)
	}
}
