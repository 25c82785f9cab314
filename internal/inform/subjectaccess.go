package inform

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lbm-project/lbm/internal/safetext"
	"github.com/lbm-project/lbm/internal/store"
)

// MaxSubjectAccessDetails bounds what a person writes with their request.
const MaxSubjectAccessDetails = 2000

// SubjectAccessReceived is the state of a request the DPO has not yet
// handled.
const SubjectAccessReceived = "received"

// DetailsError refuses the text given with a subject access request.
type DetailsError struct{ Msg string }

func (e *DetailsError) Error() string { return "details: " + e.Msg }

// RequestSubjectAccess records person's request for their own data and
// routes it to the DPO, who sees every request. The request and its
// recording in the oversight log name only the person: nothing about
// anyone's monitoring of them.
func RequestSubjectAccess(ctx context.Context, st store.Store, record Recorder, person, details string, now time.Time) (store.SubjectAccessRequest, error) {
	details = strings.TrimSpace(strings.ReplaceAll(details, "\r\n", "\n"))
	if !utf8.ValidString(details) || utf8.RuneCountInString(details) > MaxSubjectAccessDetails {
		return store.SubjectAccessRequest{}, &DetailsError{fmt.Sprintf("at most %d characters of text", MaxSubjectAccessDetails)}
	}
	for _, r := range details {
		if r != '\n' && safetext.Hidden(r) {
			return store.SubjectAccessRequest{}, &DetailsError{"contains control or hidden characters"}
		}
	}
	b := make([]byte, 12)
	rand.Read(b)
	r := store.SubjectAccessRequest{ID: hex.EncodeToString(b), Person: person, Made: now, Details: details, State: SubjectAccessReceived}
	if err := st.AddSubjectAccessRequest(ctx, r); err != nil {
		return store.SubjectAccessRequest{}, fmt.Errorf("storing the subject access request: %w", err)
	}
	if _, err := record(ctx, person, "subject_access_requested", map[string]any{"request": r.ID, "person": person}); err != nil {
		return store.SubjectAccessRequest{}, err
	}
	return r, nil
}
