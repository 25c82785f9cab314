package identity

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lbm-project/lbm/internal/store"
)

// Dual control: a change to who may do what (a person's roles or adviser
// kind, the consent-level policy; later retention and rules) is first proposed
// by one administrator and takes effect only when a second approves it.
// The guard lives here and nowhere else: [CheckDecider].
//
// Ranks are not in a change at all. They come only from the HR import or
// the identity provider, so no administrator, alone or with a colleague,
// can mint a Commissioner.

// Change states and kinds.
const (
	ChangePending  = "pending"
	ChangeApproved = "approved"
	ChangeRejected = "rejected"

	ChangePerson    = "person"
	ChangeNotice    = "notice"
	ChangeCatalogue = "catalogue"
)

// MaxReasonLen bounds a change's reason.
const MaxReasonLen = 2000

// PersonChange is the payload of a "person" change: the whole proposed
// state of what it changes.
type PersonChange struct {
	Roles   []string `json:"roles"`
	Adviser string   `json:"adviser"`
}

// Dual-control errors.
var (
	ErrSelfApproval = errors.New("a change cannot be decided by the administrator who proposed it")
	ErrNotAdmin     = errors.New("only an administrator may propose or decide a change")
	ErrNoChange     = errors.New("the proposed change changes nothing")
	ErrStale        = errors.New("what this change changes has moved on since it was proposed; propose it again")
)

// ChangeError is returned for a change that is not valid as proposed.
type ChangeError struct {
	Field string // "roles", "adviser", "reason" or "person"
	Msg   string
}

func (e *ChangeError) Error() string { return e.Field + ": " + e.Msg }

// DecidedError is returned for a decision on a change that is no longer
// pending.
type DecidedError struct{ State string }

func (e *DecidedError) Error() string { return "the change is already " + e.State }

// CheckDecider refuses actor deciding c: only an administrator may, never
// the one who proposed it.
func CheckDecider(c store.Change, actor Principal) error {
	if actor.Role != RoleAdmin {
		return ErrNotAdmin
	}
	if c.ProposedBy == actor.Subject {
		return ErrSelfApproval
	}
	return nil
}

// normalise checks pc and returns it with roles sorted, unique, and
// including staff.
func (pc PersonChange) normalise() (PersonChange, error) {
	var roles []string
	for _, r := range pc.Roles {
		role, err := ParseRole(r)
		if err != nil {
			return pc, &ChangeError{"roles", err.Error()}
		}
		roles = withRole(roles, role)
	}
	if roles == nil {
		roles = []string{string(RoleStaff)}
	}
	if err := CheckAdviser(pc.Adviser); err != nil {
		return pc, &ChangeError{"adviser", err.Error()}
	}
	if pc.Adviser != "" && !adviserAllowed(pc.Adviser, roles) {
		return pc, &ChangeError{"adviser", "an adviser kind needs the adviser role (or, for kind dpo, the dpo role)"}
	}
	return PersonChange{Roles: roles, Adviser: pc.Adviser}, nil
}

// ProposePersonChange stores a pending change to person id's roles and
// adviser kind, proposed by actor at now, and returns it. Nothing about the
// person changes until another administrator approves it.
func ProposePersonChange(ctx context.Context, st store.Store, actor Principal, id string, pc PersonChange, reason string, now time.Time) (store.Change, error) {
	if actor.Role != RoleAdmin {
		return store.Change{}, ErrNotAdmin
	}
	pc, err := pc.normalise()
	if err != nil {
		return store.Change{}, err
	}
	reason, err = checkReason(reason)
	if err != nil {
		return store.Change{}, err
	}
	p, err := st.PersonByID(ctx, id)
	if err != nil {
		return store.Change{}, fmt.Errorf("proposing a change to %s: %w", id, err)
	}
	if Left(p, now) {
		return store.Change{}, &ChangeError{"person", "has left"}
	}
	if slices.Equal(p.Roles, pc.Roles) && p.Adviser == pc.Adviser {
		return store.Change{}, ErrNoChange
	}
	payload, _ := json.Marshal(pc)
	return addChange(ctx, st, store.Change{Kind: ChangePerson, Target: id, Payload: payload, Base: p.Version,
		Reason: reason, ProposedBy: actor.Subject, Proposed: now})
}

// checkReason returns the reason for a change trimmed, or a ChangeError.
func checkReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return "", &ChangeError{"reason", "say why the change is needed"}
	case utf8.RuneCountInString(reason) > MaxReasonLen || !utf8.ValidString(reason):
		return "", &ChangeError{"reason", fmt.Sprintf("at most %d characters of text", MaxReasonLen)}
	}
	return reason, nil
}

func newChangeID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// DecideChange approves or rejects the pending change id as actor at now.
// An approved change takes effect in the same transaction as the decision,
// and only if its target is still as it was proposed against. It returns
// the decided change and, for an approval, what it did.
func DecideChange(ctx context.Context, st store.Store, actor Principal, id string, approve bool, now time.Time) (store.Change, store.ChangeEffect, error) {
	c, err := st.ChangeByID(ctx, id)
	if err != nil {
		return store.Change{}, store.ChangeEffect{}, fmt.Errorf("reading change %s: %w", id, err)
	}
	if err := CheckDecider(c, actor); err != nil {
		return store.Change{}, store.ChangeEffect{}, err
	}
	if c.State != ChangePending {
		return store.Change{}, store.ChangeEffect{}, &DecidedError{State: c.State}
	}
	c.DecidedBy, c.Decided = actor.Subject, now
	var effect store.ChangeEffect
	if approve {
		c.State = ChangeApproved
		switch c.Kind {
		case ChangePerson:
			effect, err = personEffect(ctx, st, c, now)
		case ChangeNotice:
			effect, err = noticeEffect(ctx, st, c, actor, now)
		case ChangeCatalogue:
			effect, err = catalogueEffect(ctx, st, c, now)
		case ChangeConsentPolicy:
			effect, err = consentPolicyEffect(ctx, st, c, actor, now)
		case ChangeRules:
			effect, err = rulesEffect(ctx, st, c, actor, now)
		default:
			err = fmt.Errorf("change %s: unknown kind %q", id, c.Kind)
		}
		if err != nil {
			return store.Change{}, store.ChangeEffect{}, err
		}
	} else {
		c.State = ChangeRejected
	}
	if err := st.DecideChange(ctx, c, effect); err != nil {
		return store.Change{}, store.ChangeEffect{}, decideError(ctx, st, id, err)
	}
	return c, effect, nil
}

// personEffect is what approving a person change does: the person with
// the proposed roles and adviser kind, at the next version.
func personEffect(ctx context.Context, st store.Store, c store.Change, now time.Time) (store.ChangeEffect, error) {
	var pc PersonChange
	if err := json.Unmarshal(c.Payload, &pc); err != nil {
		return store.ChangeEffect{}, fmt.Errorf("change %s: reading payload: %v", c.ID, err)
	}
	pc, err := pc.normalise()
	if err != nil {
		return store.ChangeEffect{}, err
	}
	p, err := st.PersonByID(ctx, c.Target)
	if err != nil {
		return store.ChangeEffect{}, fmt.Errorf("reading %s: %w", c.Target, err)
	}
	if p.Version != c.Base {
		return store.ChangeEffect{}, ErrStale
	}
	if Left(p, now) {
		return store.ChangeEffect{}, &ChangeError{"person", "has left"}
	}
	p.Roles, p.Adviser, p.Updated, p.Version = pc.Roles, pc.Adviser, now, c.Base+1
	return store.ChangeEffect{Person: &p}, nil
}

// decideError explains a lost compare-and-swap: someone decided the change
// first, or the person moved on.
func decideError(ctx context.Context, st store.Store, id string, err error) error {
	if !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("deciding change %s: %w", id, err)
	}
	if c, err2 := st.ChangeByID(ctx, id); err2 == nil && c.State != ChangePending {
		return &DecidedError{State: c.State}
	}
	return ErrStale
}
