package record

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/keys"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/store/sqlite"
	"github.com/lbm-project/lbm/internal/tlog"
)

const sample = `{"@timestamp":"2026-11-02T08:03:11.123Z","event":{"id":"e1","category":"email","action":"send"},"user":{"id":"u00042"},"related":{"user":["u00017"]},"content":{"subject":"Lunch?","body":"See you at 1"}}`

type fixture struct {
	st     *sqlite.DB
	ring   *keys.Ring
	sealer *Sealer
	opener *Opener
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	kek, err := keys.NewLocalKEK(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	ring := keys.NewRing(kek, st, func() time.Time { return time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC) })
	return &fixture{st: st, ring: ring, sealer: &Sealer{Log: "activity", Ring: ring}, opener: &Opener{Ring: ring, Store: st}}
}

// seal parses and seals one event from source "mail".
func (f *fixture) seal(t *testing.T, line string) Sealed {
	t.Helper()
	e, err := event.Parse([]byte(line), "mail")
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.sealer.Seal(t.Context(), e)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// store seals and appends one event, returning its stored entry.
func (f *fixture) store(t *testing.T, line string) store.Entry {
	t.Helper()
	s := f.seal(t, line)
	err := f.st.UpdateLog(t.Context(), "activity", func(tx store.LogTx) error {
		st, err := tx.State(t.Context())
		if err != nil {
			return err
		}
		s.Entry.Index = st.Size
		next, tiles, err := tlog.Extend(t.Context(), tx, st, [][]byte{s.LeafHash})
		if err != nil {
			return err
		}
		return tx.Append(t.Context(), []store.Entry{s.Entry}, tiles, next)
	})
	if err != nil {
		t.Fatal(err)
	}
	en, err := f.st.EntryByID(t.Context(), s.Entry.ID)
	if err != nil {
		t.Fatal(err)
	}
	return en
}

func TestSealOpenRoundTrip(t *testing.T) {
	f := newFixture(t)
	en := f.store(t, sample)
	if bytes.Contains(en.Content, []byte("See you")) || bytes.Contains(en.Meta, []byte("See you")) || bytes.Contains(en.Leaf, []byte("u00042")) {
		t.Fatal("content or a person appears in the clear in the stored row or leaf")
	}
	if en.Subject != "u00042" || en.ClientID != "e1" {
		t.Errorf("entry subject, client id = %q, %q; want u00042, e1", en.Subject, en.ClientID)
	}
	got, err := f.opener.Open(t.Context(), en)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	want, _ := event.Parse([]byte(sample), "mail")
	if len(got.Event.Fields) != len(want.Fields) {
		t.Fatalf("Open gave %d fields, want %d", len(got.Event.Fields), len(want.Fields))
	}
	for i, fl := range got.Event.Fields {
		if fl.Name != want.Fields[i].Name || !bytes.Equal(fl.Value, want.Fields[i].Value) {
			t.Errorf("field %d = %s=%s, want %s=%s", i, fl.Name, fl.Value, want.Fields[i].Name, want.Fields[i].Value)
		}
	}
	if got.ContentDeleted {
		t.Error("ContentDeleted = true for live content")
	}
}

func TestOpenDetectsTampering(t *testing.T) {
	for _, c := range []struct {
		name   string
		tamper func(en *store.Entry, other store.Entry)
	}{
		{"meta byte", func(en *store.Entry, _ store.Entry) { en.Meta[len(en.Meta)-2] ^= 1 }},
		{"content byte", func(en *store.Entry, _ store.Entry) { en.Content[len(en.Content)-1] ^= 1 }},
		{"content swapped from another event", func(en *store.Entry, o store.Entry) { en.Content = o.Content }},
		{"subject column", func(en *store.Entry, _ store.Entry) { en.Subject = "u99999" }},
		{"client id column", func(en *store.Entry, _ store.Entry) { en.ClientID = "other" }},
		{"time column", func(en *store.Entry, _ store.Entry) { en.Time++ }},
		{"leaf byte", func(en *store.Entry, _ store.Entry) { en.Leaf[len(en.Leaf)-1] ^= 1 }},
		{"content dropped, key kept", func(en *store.Entry, _ store.Entry) { en.Content = nil }},
		// The columns scoped queries select on must match the leaf.
		{"category column", func(en *store.Entry, _ store.Entry) { en.Category = "web" }},
		{"action column", func(en *store.Entry, _ store.Entry) { en.Action = "other" }},
		{"related column", func(en *store.Entry, _ store.Entry) { en.Related = []string{"u00001"} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			en := f.store(t, sample)
			other := f.store(t, `{"@timestamp":"2026-11-02T09:00:00Z","event":{"category":"email","action":"send"},"user":{"id":"u00042"},"content":{"subject":"x"}}`)
			c.tamper(&en, other)
			_, err := f.opener.Open(t.Context(), en)
			var te *TamperError
			if !errors.As(err, &te) {
				t.Fatalf("Open(tampered %s) = %v, want *TamperError", c.name, err)
			}
			if te.Index != en.Index || te.Log != "activity" {
				t.Errorf("TamperError names %s %d, want activity %d", te.Log, te.Index, en.Index)
			}
			// Checked as a page (Batch) the tampering is caught too: by
			// Batch, or by the Open after it.
			op, err := f.opener.Batch(t.Context(), []store.Entry{other, en})
			if err == nil {
				_, err = op.Open(t.Context(), en)
			}
			if !errors.As(err, &te) || te.Index != en.Index {
				t.Fatalf("Batch, then Open(tampered %s) = %v, want *TamperError of entry %d", c.name, err, en.Index)
			}
		})
	}
}

// TestBatchIsBoundToTheLeaf: a leaf Batch checked is not read from the
// tree again, but a different leaf at the same index is, and fails; an
// entry whose tile is missing fails Batch.
func TestBatchIsBoundToTheLeaf(t *testing.T) {
	f := newFixture(t)
	en := f.store(t, sample)
	op, err := f.opener.Batch(t.Context(), []store.Entry{en})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := op.Open(t.Context(), en); err != nil {
		t.Fatalf("Open after Batch = %v", err)
	}
	swapped := en
	swapped.Leaf = bytes.Clone(en.Leaf)
	swapped.Leaf[len(swapped.Leaf)-1] ^= 1
	var te *TamperError
	if _, err := op.Open(t.Context(), swapped); !errors.As(err, &te) {
		t.Errorf("Open of a leaf changed after Batch = %v, want *TamperError", err)
	}
	far := en
	far.Index = 1 << 20
	if _, err := f.opener.Batch(t.Context(), []store.Entry{far}); !errors.As(err, &te) {
		t.Errorf("Batch of an entry with no tile = %v, want *TamperError", err)
	}
}

func TestContentKeyIsPerSubjectAndMonth(t *testing.T) {
	f := newFixture(t)
	a := f.store(t, sample)
	b := f.store(t, `{"@timestamp":"2026-11-30T08:00:00Z","event":{"category":"email","action":"send"},"user":{"id":"u00042"},"content":{"body":"b"}}`)
	c := f.store(t, `{"@timestamp":"2026-12-01T08:00:00Z","event":{"category":"email","action":"send"},"user":{"id":"u00042"},"content":{"body":"c"}}`)
	d := f.store(t, `{"@timestamp":"2026-11-02T08:00:00Z","event":{"category":"email","action":"send"},"user":{"id":"u00043"},"content":{"body":"d"}}`)
	if !bytes.Equal(a.KeyID, b.KeyID) {
		t.Error("two events of one subject in one month use different keys")
	}
	if bytes.Equal(a.KeyID, c.KeyID) || bytes.Equal(a.KeyID, d.KeyID) {
		t.Error("another month or another subject shares a key")
	}
	e := f.store(t, `{"@timestamp":"2026-11-02T08:00:00Z","event":{"category":"web","action":"browse"},"user":{"id":"u00042"}}`)
	if e.Content != nil || e.KeyID != nil {
		t.Error("an event without content has ciphertext or a key")
	}
}

func TestDestroyedKeyReadsAsDeletedContent(t *testing.T) {
	f := newFixture(t)
	en := f.store(t, sample)
	// A ring whose store says the key is destroyed, as retention will.
	destroyed := keys.NewRing(mustKEK(t), destroyedKeys{f.st}, time.Now)
	o := &Opener{Ring: destroyed, Store: f.st}
	got, err := o.Open(context.Background(), en)
	if err != nil {
		t.Fatalf("Open after key destruction = %v, want the metadata", err)
	}
	if !got.ContentDeleted {
		t.Error("ContentDeleted = false after key destruction")
	}
	for _, fl := range got.Event.Fields {
		if fl.IsContent() {
			t.Errorf("content field %s returned after key destruction", fl.Name)
		}
	}
}

func mustKEK(t *testing.T) *keys.LocalKEK {
	k, err := keys.NewLocalKEK(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type destroyedKeys struct{ store.DataKeys }

func (d destroyedKeys) DataKeyByID(ctx context.Context, id []byte) (store.DataKey, error) {
	k, err := d.DataKeys.DataKeyByID(ctx, id)
	k.Wrapped, k.Destroyed = nil, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	return k, err
}

func TestSealBlindsContentTerms(t *testing.T) {
	f := newFixture(t)
	seal := func(line string) store.Entry {
		t.Helper()
		return f.seal(t, line).Entry
	}
	const content = "The quick brown fox"
	en := seal(`{"@timestamp":"2026-11-02T08:03:11Z","event":{"category":"email","action":"send"},"user":{"id":"u00042"},"content":{"body":"` + content + `"}}`)
	// Terms are blinded under the month key, content sealed under the
	// category's key (keys.CategoryPeriod).
	k, err := f.ring.Existing(t.Context(), "u00042", time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(k.ID, en.KeyID) {
		t.Error("content is sealed under the month key, want the e-mail key")
	}
	want := k.BlindAll([]string{"brown", "fox", "quick", "the"})
	slices.Sort(want)
	if diff := cmp.Diff(want, en.Terms); diff != "" {
		t.Errorf("Terms of %q (-want +got):\n%s", content, diff)
	}
	for _, term := range en.Terms {
		if !blindShape.MatchString(term) {
			t.Errorf("term %q is not a 24-character blinded tag", term)
		}
		// Words of five letters or more: a shorter one turns up in a random
		// tag by chance (a given three letters in about 1 tag in 1,500).
		for _, word := range []string{"quick", "brown", strings.ToLower(content)} {
			if strings.Contains(term, word) {
				t.Errorf("term %q holds the plaintext %q", term, word)
			}
		}
	}
	none := seal(`{"@timestamp":"2026-11-02T08:00:00Z","event":{"category":"web","action":"browse"},"user":{"id":"u00042"}}`)
	if none.Terms != nil {
		t.Errorf("Terms of an event without content = %q, want nil", none.Terms)
	}
	noTerms := seal(`{"@timestamp":"2026-11-02T08:00:00Z","event":{"category":"email","action":"send"},"user":{"id":"u00042"},"content":{"body":"a b ?"}}`)
	if noTerms.Content == nil || noTerms.Terms != nil {
		t.Errorf("content with no terms: Content %d bytes, Terms %q; want content and nil Terms", len(noTerms.Content), noTerms.Terms)
	}
}

var blindShape = regexp.MustCompile(`^[a-z2-7]{24}$`)

// destroyable is a DataKeys whose keys read as destroyed, as retention will
// leave them, once destroyed is set.
type destroyable struct {
	store.DataKeys
	destroyed bool
}

func (d *destroyable) destroy(k store.DataKey, err error) (store.DataKey, error) {
	if d.destroyed && err == nil {
		k.Wrapped, k.Destroyed = nil, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return k, err
}

func (d *destroyable) DataKeyFor(ctx context.Context, subject, period string) (store.DataKey, error) {
	return d.destroy(d.DataKeys.DataKeyFor(ctx, subject, period))
}

func (d *destroyable) DataKeyByID(ctx context.Context, id []byte) (store.DataKey, error) {
	return d.destroy(d.DataKeys.DataKeyByID(ctx, id))
}

func TestBlindQuery(t *testing.T) {
	f := newFixture(t)
	dk := &destroyable{DataKeys: f.st}
	clock := func() time.Time { return time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC) }
	ring := keys.NewRing(mustKEK(t), dk, clock)
	sealer := &Sealer{Log: "activity", Ring: ring}
	e, err := event.Parse([]byte(`{"@timestamp":"2026-11-02T08:03:11Z","event":{"category":"email","action":"send"},"user":{"id":"u00042"},"content":{"body":"The quick brown fox"}}`), "mail")
	if err != nil {
		t.Fatal(err)
	}
	s, err := sealer.Seal(t.Context(), e)
	if err != nil {
		t.Fatal(err)
	}
	en := s.Entry

	// Any time in the month finds the month's key.
	keyID, terms, err := BlindQuery(t.Context(), ring, "u00042", time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC), "QUICK, the fox?")
	if err != nil {
		t.Fatalf("BlindQuery = %v", err)
	}
	k, err := ring.Existing(t.Context(), "u00042", e.Time)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(keyID, k.ID) || bytes.Equal(keyID, en.KeyID) {
		t.Errorf("BlindQuery key id = %x, want the month key %x, not the content key %x", keyID, k.ID, en.KeyID)
	}
	want := k.BlindAll([]string{"fox", "quick", "the"})
	slices.Sort(want)
	if diff := cmp.Diff(want, terms); diff != "" {
		t.Errorf("BlindQuery terms (-want +got):\n%s", diff)
	}
	for _, term := range terms {
		if _, ok := slices.BinarySearch(en.Terms, term); !ok {
			t.Errorf("query term %q is not among the entry's terms", term)
		}
	}
	if _, terms, err := BlindQuery(t.Context(), ring, "u00042", e.Time, "? !"); err != nil || terms != nil {
		t.Errorf("BlindQuery(no terms) = %q, %v; want nil, nil", terms, err)
	}

	// A month without a key is not searched, and gets no key.
	dec := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if _, _, err := BlindQuery(t.Context(), ring, "u00042", dec, "fox"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("BlindQuery for a month without a key = %v, want store.ErrNotFound", err)
	}
	if _, err := f.st.DataKeyFor(t.Context(), "u00042", keys.Period(dec)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after BlindQuery, DataKeyFor(December) = %v, want store.ErrNotFound", err)
	}

	// Destroyed while this ring caches the key, and for a fresh ring.
	dk.destroyed = true
	for _, r := range []*keys.Ring{ring, keys.NewRing(mustKEK(t), dk, clock)} {
		if _, terms, err := BlindQuery(t.Context(), r, "u00042", e.Time, "fox"); !errors.Is(err, keys.ErrDestroyed) || terms != nil {
			t.Errorf("BlindQuery after key destruction = %q, %v; want keys.ErrDestroyed", terms, err)
		}
	}
}

func TestOpenMetadataLeavesContentSealed(t *testing.T) {
	f := newFixture(t)
	en := f.store(t, sample)
	if en.Category == "" || en.Action == "" {
		t.Fatalf("Seal left the category or action column empty: %+v", en)
	}
	o, err := f.opener.OpenMetadata(t.Context(), en)
	if err != nil {
		t.Fatal(err)
	}
	for _, fl := range o.Event.Fields {
		if fl.IsContent() {
			t.Errorf("OpenMetadata returned content field %s", fl.Name)
		}
	}
	if len(o.Event.Fields) == 0 || o.ContentDeleted {
		t.Errorf("OpenMetadata = %d fields, content deleted %v", len(o.Event.Fields), o.ContentDeleted)
	}
	// Metadata is still checked against the leaf.
	en.Meta[len(en.Meta)-2] ^= 1
	var te *TamperError
	if _, err := f.opener.OpenMetadata(t.Context(), en); !errors.As(err, &te) {
		t.Errorf("OpenMetadata(tampered metadata) = %v, want *TamperError", err)
	}
}
