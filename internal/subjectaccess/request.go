package subjectaccess

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lbm-project/lbm/internal/safetext"
	"github.com/lbm-project/lbm/internal/store"
)

// MaxDetails bounds what a person writes with their request.
const MaxDetails = 2000

// ActionRequested is the oversight-log action of a request being made.
const ActionRequested = "subject_access_requested"

// DetailsError refuses the text given with a subject access request.
type DetailsError struct{ Msg string }

func (e *DetailsError) Error() string { return "details: " + e.Msg }

// Make records person's request for their own data, made at now, and
// routes it to the DPO, who sees every request: an oversight leaf naming
// only the person (nothing about anyone's monitoring of them), then the
// request, received and due one calendar month later ([DueDate]).
// record is inform.Recorder's shape. ErrNotFound, and nothing recorded,
// for someone not in the directory.
func Make(ctx context.Context, st store.Store, record func(ctx context.Context, actor, action string, details map[string]any) (uint64, error),
	person, details string, now time.Time) (store.SubjectAccessRequest, error) {
	details = strings.TrimSpace(strings.ReplaceAll(details, "\r\n", "\n"))
	if !utf8.ValidString(details) || utf8.RuneCountInString(details) > MaxDetails {
		return store.SubjectAccessRequest{}, &DetailsError{fmt.Sprintf("at most %d characters of text", MaxDetails)}
	}
	for _, r := range details {
		if r != '\n' && safetext.Hidden(r) {
			return store.SubjectAccessRequest{}, &DetailsError{"contains control or hidden characters"}
		}
	}
	if _, err := st.PersonByID(ctx, person); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.SubjectAccessRequest{}, fmt.Errorf("subject access request by %q: %w", person, err)
		}
		return store.SubjectAccessRequest{}, err
	}
	b := make([]byte, 12)
	rand.Read(b)
	r := store.SubjectAccessRequest{ID: hex.EncodeToString(b), Person: person, Made: now, Details: details, State: string(Received),
		Due: DueDate(now), Version: 1}
	if _, err := record(ctx, person, ActionRequested, map[string]any{"request": r.ID, "person": person, "due": r.Due.Format(time.DateOnly)}); err != nil {
		return store.SubjectAccessRequest{}, err
	}
	if err := st.AddSubjectAccessRequest(ctx, r); err != nil {
		return store.SubjectAccessRequest{}, fmt.Errorf("storing the subject access request: %w", err)
	}
	return r, nil
}
