package inform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lbm-project/lbm/internal/store"
)

// Recorder writes one action to the oversight log and returns the leaf's
// index once it is durable.
type Recorder func(ctx context.Context, actor, action string, details map[string]any) (uint64, error)

// Ways a person acknowledges.
const (
	ViaWeb = "web"
	ViaAPI = "api"
)

// Errors of acknowledging.
var (
	ErrNoNotice = errors.New("no monitoring notice has been published yet")
)

// NotCurrentError refuses an acknowledgement of a notice version that is
// not the current one: the person read an older or unpublished text.
type NotCurrentError struct {
	Version, Current int64
}

func (e *NotCurrentError) Error() string {
	return fmt.Sprintf("notice version %d is not the current one: read version %d and acknowledge that", e.Version, e.Current)
}

// CurrentNotice returns the published notice; ErrNoNotice if none is.
func CurrentNotice(ctx context.Context, st store.Notices) (store.Notice, error) {
	n, err := st.CurrentNotice(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return store.Notice{}, ErrNoNotice
	}
	if err != nil {
		return store.Notice{}, fmt.Errorf("reading the current notice: %w", err)
	}
	return n, nil
}

// Acknowledge records that person acknowledged the current notice, which
// they were shown as version, via ViaWeb or ViaAPI. The acknowledgement is
// first written to the oversight log, so that the stored acknowledgement
// always names a leaf that proves it. It returns the acknowledgement and
// whether it is new: acknowledging again returns the first one.
func Acknowledge(ctx context.Context, st store.Store, record Recorder, person string, version int64, via string, now time.Time) (store.Acknowledgement, bool, error) {
	cur, err := CurrentNotice(ctx, st)
	if err != nil {
		return store.Acknowledgement{}, false, err
	}
	if version != cur.Version {
		return store.Acknowledgement{}, false, &NotCurrentError{Version: version, Current: cur.Version}
	}
	if a, ok, err := acknowledgementOf(ctx, st, person, version); err != nil || ok {
		return a, false, err
	}
	// The leaf names the text as well as the version, so that the log
	// alone proves what the person was shown.
	entry, err := record(ctx, person, "notice_acknowledged", map[string]any{
		"person": person, "notice_version": version, "notice_sha256": TextHash(cur), "via": via,
	})
	if err != nil {
		return store.Acknowledgement{}, false, err
	}
	a := store.Acknowledgement{Person: person, Version: version, Time: now, Via: via, Entry: entry}
	err = st.AddAcknowledgement(ctx, a)
	if errors.Is(err, store.ErrExists) {
		// The same person acknowledged in another tab at the same moment:
		// both leaves stand, the first stored acknowledgement counts.
		a, _, err = acknowledgementOf(ctx, st, person, version)
		return a, false, err
	}
	if err != nil {
		return store.Acknowledgement{}, false, fmt.Errorf("storing the acknowledgement: %w", err)
	}
	return a, true, nil
}

// TextHash is the SHA-256, in hex, of the notice a person acknowledges: its
// title and staff text, separated by a newline.
func TextHash(n store.Notice) string {
	sum := sha256.Sum256([]byte(n.Title + "\n" + n.Text))
	return hex.EncodeToString(sum[:])
}

func acknowledgementOf(ctx context.Context, st store.Notices, person string, version int64) (store.Acknowledgement, bool, error) {
	as, err := st.AcknowledgementsOf(ctx, person)
	if err != nil {
		return store.Acknowledgement{}, false, fmt.Errorf("reading acknowledgements: %w", err)
	}
	i := slices.IndexFunc(as, func(a store.Acknowledgement) bool { return a.Version == version })
	if i < 0 {
		return store.Acknowledgement{}, false, nil
	}
	return as[i], true, nil
}

// HasAcknowledged reports whether as holds an acknowledgement of version.
func HasAcknowledged(as []store.Acknowledgement, version int64) bool {
	return slices.ContainsFunc(as, func(a store.Acknowledgement) bool { return a.Version == version })
}

// AwaitingAcknowledgement returns the version of the notice in force when
// person has not acknowledged it, else 0 (none in force, or acknowledged).
func AwaitingAcknowledgement(ctx context.Context, st store.Notices, person string) (int64, error) {
	cur, err := CurrentNotice(ctx, st)
	if errors.Is(err, ErrNoNotice) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	_, ok, err := acknowledgementOf(ctx, st, person, cur.Version)
	if err != nil || ok {
		return 0, err
	}
	return cur.Version, nil
}

// Acknowledged answers the request workflow's question for the NOTICE
// criterion: did person acknowledge a published notice covering category,
// and when? It returns the latest such acknowledgement and its notice, and
// false when there is none.
func Acknowledged(ctx context.Context, st store.Notices, person, category string) (store.Acknowledgement, store.Notice, bool, error) {
	as, err := st.AcknowledgementsOf(ctx, person)
	if err != nil {
		return store.Acknowledgement{}, store.Notice{}, false, fmt.Errorf("reading acknowledgements of %s: %w", person, err)
	}
	for _, a := range as {
		n, err := st.NoticeByVersion(ctx, a.Version)
		if err != nil {
			return store.Acknowledgement{}, store.Notice{}, false, fmt.Errorf("reading notice version %d: %w", a.Version, err)
		}
		if _, found := slices.BinarySearch(n.Categories, category); found {
			return a, n, true, nil
		}
	}
	return store.Acknowledgement{}, store.Notice{}, false, nil
}
