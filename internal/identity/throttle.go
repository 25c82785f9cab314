package identity

import (
	"sync"
	"time"
)

// Throttle slows down password guessing without ever locking an account.
// A lockout would hand an attacker a way to lock out every Superintendent
// on the eve of an operation; a delay that doubles with each failure makes
// guessing hopeless while the real owner, who fails once or twice, barely
// notices.
//
// Failures are counted per key (the caller uses both the username and the
// client address, so one attacker cannot spread guesses over many names,
// nor many attackers over one name quickly). The first FreeAttempts
// failures cost nothing; each further failure doubles the wait before the
// next attempt is even checked, up to MaxDelay. A success clears the key.
// Counts live in memory and are bounded: at MaxKeys the oldest key goes.
type Throttle struct {
	FreeAttempts int           // default 5
	BaseDelay    time.Duration // default 1s
	MaxDelay     time.Duration // default 5m
	MaxKeys      int           // default 100,000

	mu   sync.Mutex
	keys map[string]*throttleState
}

type throttleState struct {
	failures int
	until    time.Time // no attempt is checked before this
	last     time.Time
}

// Wait returns how long key must wait at now before an attempt is checked;
// 0 means go ahead.
func (t *Throttle) Wait(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.keys[key]
	if s == nil || !now.Before(s.until) {
		return 0
	}
	return s.until.Sub(now)
}

// Fail records a failed attempt by key at now.
func (t *Throttle) Fail(key string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	free, base, max, maxKeys := t.FreeAttempts, t.BaseDelay, t.MaxDelay, t.MaxKeys
	if free == 0 {
		free = 5
	}
	if base == 0 {
		base = time.Second
	}
	if max == 0 {
		max = 5 * time.Minute
	}
	if maxKeys == 0 {
		maxKeys = 100_000
	}
	if t.keys == nil {
		t.keys = map[string]*throttleState{}
	}
	s := t.keys[key]
	if s == nil {
		if len(t.keys) >= maxKeys {
			t.evictOldest()
		}
		s = &throttleState{}
		t.keys[key] = s
	}
	s.failures++
	s.last = now
	if over := s.failures - free; over > 0 {
		d := max
		if over < 30 && base<<(over-1) < max {
			d = base << (over - 1)
		}
		s.until = now.Add(d)
	}
}

// Succeed clears key's failures.
func (t *Throttle) Succeed(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, key)
}

func (t *Throttle) evictOldest() {
	var oldest string
	var at time.Time
	for k, s := range t.keys {
		if oldest == "" || s.last.Before(at) {
			oldest, at = k, s.last
		}
	}
	delete(t.keys, oldest)
}
