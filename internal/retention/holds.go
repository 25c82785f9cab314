package retention

// Explicit legal holds: the DPO places one on a person's monitoring data
// (for litigation, a complaint), and while it is in force the retention
// job deletes nothing of theirs. Placing and releasing are the DPO's
// alone; oversight reads them; nobody else learns a hold exists, least
// of all the person it is about, whom it could tip off (LEGAL.md §5).
//
// Each step is an oversight-log leaf first, then the store: a leaf that
// cannot be written stores nothing, and a store that then refuses the
// step gets a second leaf voiding the first, so that the log never
// claims a hold that was not kept. The leaf's metadata names only the
// hold; the person, the reason and the release note are its encrypted
// content, because administrators read the oversight log's metadata and
// a hold must not reach them.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/safetext"
	"github.com/lbm-project/lbm/internal/store"
)

// Oversight-log actions of legal holds.
const (
	ActionHoldPlaced   = "hold_placed"
	ActionHoldReleased = "hold_released"
	// ActionHoldVoid says the leaf at its void_index recorded a step the
	// store then refused.
	ActionHoldVoid = "hold_void"
)

// The bounds of a hold's reason and of a release note, in characters.
const (
	MinHoldText = 10
	MaxHoldText = 2000
)

// maxPersonID bounds a person id given to PlaceHold before the directory
// is asked; no directory id is longer.
const maxPersonID = 200

var (
	// ErrHoldForbidden refuses anyone but the DPO a change to holds, and
	// anyone but the DPO and oversight a look at them.
	ErrHoldForbidden = errors.New("only the data protection officer places and releases legal holds, and only they and oversight see them")
	// ErrHoldReleased refuses releasing a hold released already.
	ErrHoldReleased = errors.New("the legal hold is released already")
)

// HoldRecorder writes one step to the oversight log and returns its index
// once durable: details as metadata, private as encrypted content. It has
// review.AccessRecorder's shape, so the server's recorder of texts as
// content (Node.OversightAccess) is one.
type HoldRecorder func(ctx context.Context, actor, action string, details map[string]any, private map[string]string) (uint64, error)

// HoldStore is what holds need of the store: the directory, to check the
// person exists, and the holds. A store.Store is one.
type HoldStore interface {
	PersonByID(ctx context.Context, id string) (store.Person, error)
	store.Holds
}

// PlaceHold places a legal hold on person's monitoring data, as actor,
// who must be the DPO (else ErrHoldForbidden). The person must be in the
// directory; reason is trimmed and must be MinHoldText to MaxHoldText
// characters with no hidden characters (line breaks aside): otherwise
// requests.FieldErrors and nothing recorded or stored. The leaf
// ActionHoldPlaced comes first; if it cannot be written nothing is stored.
func PlaceHold(ctx context.Context, st HoldStore, record HoldRecorder, actor identity.Principal, person, reason string, now time.Time) (store.Hold, error) {
	if actor.Role != identity.RoleDPO || actor.Subject == "" {
		return store.Hold{}, ErrHoldForbidden
	}
	var fes requests.FieldErrors
	person = strings.TrimSpace(person)
	switch {
	case person == "":
		fes = append(fes, requests.FieldError{Field: "person", Msg: "is required"})
	case len(person) > maxPersonID || !utf8.ValidString(person) || strings.ContainsFunc(person, safetext.Hidden):
		fes = append(fes, requests.FieldError{Field: "person", Msg: "no such person in the directory"})
	default:
		if _, err := st.PersonByID(ctx, person); errors.Is(err, store.ErrNotFound) {
			fes = append(fes, requests.FieldError{Field: "person", Msg: "no such person in the directory"})
		} else if err != nil {
			return store.Hold{}, fmt.Errorf("looking up the person: %w", err)
		}
	}
	reason, err := checkHoldText("reason", reason)
	if err != nil {
		fes = append(fes, err.(requests.FieldError))
	}
	if len(fes) > 0 {
		return store.Hold{}, fes
	}
	h := store.Hold{ID: newHoldID(), Person: person, Reason: reason, PlacedBy: actor.Subject, Placed: now.UTC()}
	idx, err := record(ctx, actor.Subject, ActionHoldPlaced, map[string]any{"hold": h.ID},
		map[string]string{"person": h.Person, "reason": h.Reason})
	if err != nil {
		return store.Hold{}, fmt.Errorf("recording the hold: %w", err)
	}
	if err := st.AddHold(ctx, h); err != nil {
		return store.Hold{}, voidHold(ctx, record, h.ID, idx, fmt.Errorf("storing the hold: %w", err))
	}
	return h, nil
}

// ReleaseHold releases hold id as actor, who must be the DPO (else
// ErrHoldForbidden), with note, checked as PlaceHold checks a reason. It
// returns store.ErrNotFound for no such hold and ErrHoldReleased for one
// released already, including by a concurrent release that won. The leaf
// ActionHoldReleased comes first; if it cannot be written nothing is
// stored.
func ReleaseHold(ctx context.Context, st HoldStore, record HoldRecorder, actor identity.Principal, id, note string, now time.Time) (store.Hold, error) {
	if actor.Role != identity.RoleDPO || actor.Subject == "" {
		return store.Hold{}, ErrHoldForbidden
	}
	note, err := checkHoldText("note", note)
	if err != nil {
		return store.Hold{}, requests.FieldErrors{err.(requests.FieldError)}
	}
	h, err := st.HoldByID(ctx, id)
	if err != nil {
		return store.Hold{}, err
	}
	if !h.Released.IsZero() {
		return store.Hold{}, ErrHoldReleased
	}
	idx, err := record(ctx, actor.Subject, ActionHoldReleased, map[string]any{"hold": h.ID},
		map[string]string{"person": h.Person, "note": note})
	if err != nil {
		return store.Hold{}, fmt.Errorf("recording the release: %w", err)
	}
	released, err := st.ReleaseHold(ctx, h.ID, actor.Subject, note, now.UTC())
	if errors.Is(err, store.ErrConflict) {
		err = fmt.Errorf("%w: %w", ErrHoldReleased, err)
	}
	if err != nil {
		return store.Hold{}, voidHold(ctx, record, h.ID, idx, fmt.Errorf("storing the release: %w", err))
	}
	return released, nil
}

// ListHolds returns the holds newest first, only those in force unless
// includeReleased, to the DPO and oversight; ErrHoldForbidden to anyone
// else.
func ListHolds(ctx context.Context, st HoldStore, actor identity.Principal, includeReleased bool) ([]store.Hold, error) {
	if actor.Role != identity.RoleDPO && actor.Role != identity.RoleOversight {
		return nil, ErrHoldForbidden
	}
	return st.ListHolds(ctx, includeReleased)
}

// checkHoldText returns s trimmed, its line breaks as "\n", or the
// FieldError for field if it is too short, too long, or holds a
// character that hides itself or changes how the text around it reads.
func checkHoldText(field, s string) (string, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	n := utf8.RuneCountInString(s)
	switch {
	case s == "":
		return "", requests.FieldError{Field: field, Msg: "is required"}
	case !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r != '\n' && safetext.Hidden(r) }):
		return "", requests.FieldError{Field: field, Msg: "holds characters that cannot be shown"}
	case n < MinHoldText:
		return "", requests.FieldError{Field: field, Msg: fmt.Sprintf("at least %d characters: say why", MinHoldText)}
	case n > MaxHoldText:
		return "", requests.FieldError{Field: field, Msg: fmt.Sprintf("at most %d characters", MaxHoldText)}
	}
	return s, nil
}

// voidHold records that the leaf at index recorded a step of hold id the
// store refused with cause, and returns cause (with the voiding's own
// failure, which leaves the log claiming a step that did not happen).
func voidHold(ctx context.Context, record HoldRecorder, id string, index uint64, cause error) error {
	if _, err := record(ctx, requests.System, ActionHoldVoid, map[string]any{"hold": id, "void_index": index}, nil); err != nil {
		return fmt.Errorf("%w (and voiding oversight log entry %d failed: %v)", cause, index, err)
	}
	return cause
}

func newHoldID() string {
	var b [12]byte
	rand.Read(b[:])
	return "hold-" + hex.EncodeToString(b[:])
}
