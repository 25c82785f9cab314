package witness

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/tlog"
)

// ErrNotCosigned is returned by [Service.Checkpoint] under fail: closed
// while no checkpoint of the log has its quorum of cosignatures.
var ErrNotCosigned = errors.New("no checkpoint of the log has its quorum of witness cosignatures yet")

// Store is what witnessing reads and writes: the published checkpoints,
// the tiles their consistency proofs are built from, and the cosignatures.
type Store interface {
	store.Logs
	store.Checkpoints
	store.Cosignatures
}

// ServiceConfig configures a Service. Zero values are the documented defaults.
type ServiceConfig struct {
	Config *Config // the parsed DATA/witnesses.yaml; required
	Logs   []string
	Store  Store
	// HTTP sends the requests; default a client with a 10 s timeout.
	HTTP *http.Client
	// Interval is how often each witness is offered the latest
	// checkpoint of each log when all is well. Default 1 s.
	Interval time.Duration
	// MaxBackoff caps the wait after repeated errors, which doubles from
	// Interval. Default 5 minutes.
	MaxBackoff time.Duration
	Logger     *slog.Logger
	Now        func() time.Time
}

// Service pushes checkpoints to witnesses, stores their cosignatures, and
// serves checkpoints with them. Its methods are safe for concurrent use.
type Service struct {
	cfg    ServiceConfig
	names  []string
	mu     sync.Mutex
	status map[key]*state
}

type key struct{ witness, log string }

// state is what lbm knows of one witness for one log, in memory.
type state struct {
	known       uint64 // the size the witness last told us it cosigned
	cosigned    uint64
	cosignedAt  time.Time
	lastAttempt time.Time
	lastErr     string
	failures    int
}

// New checks cfg and returns a Service.
func New(ctx context.Context, cfg ServiceConfig) (*Service, error) {
	if cfg.Config == nil || len(cfg.Config.Witnesses) == 0 {
		return nil, errors.New("witnessing without witnesses")
	}
	if cfg.Store == nil || len(cfg.Logs) == 0 {
		return nil, errors.New("witnessing needs a store and logs")
	}
	if q := cfg.Config.Quorum; q < 1 || q > len(cfg.Config.Witnesses) {
		return nil, fmt.Errorf("quorum %d of %d witnesses", q, len(cfg.Config.Witnesses))
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Interval == 0 {
		cfg.Interval = time.Second
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{cfg: cfg, status: map[key]*state{}}
	for _, w := range cfg.Config.Witnesses {
		s.names = append(s.names, w.Name)
	}
	logs := cfg.Logs
	s.cfg.Logs = nil
	for _, log := range logs {
		if err := s.AddLog(ctx, log); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// AddLog has the service witness log too, from when RunLog runs for it:
// the activity log's shards appear while a service runs. A log added
// already is left as it is.
func (s *Service) AddLog(ctx context.Context, log string) error {
	s.mu.Lock()
	added := slices.Contains(s.cfg.Logs, log)
	s.mu.Unlock()
	if added {
		return nil
	}
	states := map[key]*state{}
	for _, w := range s.cfg.Config.Witnesses {
		st := &state{}
		// Start from what the witness last cosigned for us: usually
		// what it still knows, so the first push needs no 409.
		// A stored line that does not check against its checkpoint
		// as stored now (a key since changed, a store rewritten) is
		// not trusted: the push starts from 0 and the 409 tells.
		c, err := s.cfg.Store.LastCosignature(ctx, log, w.Name)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("reading %s's last cosignature of %s: %w", w.Name, log, err)
		}
		if err == nil {
			ok, err := checkStored(ctx, s.cfg.Store, c, w)
			if err != nil {
				return err
			}
			if ok {
				st.known, st.cosigned, st.cosignedAt = c.Size, c.Size, c.Time
			}
		}
		states[key{w.Name, log}] = st
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Contains(s.cfg.Logs, log) {
		s.cfg.Logs = append(s.cfg.Logs, log)
		maps.Copy(s.status, states)
	}
	return nil
}

// logs returns the logs witnessed now.
func (s *Service) logs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.cfg.Logs)
}

// checkStored reports whether c's line checks with w's key against the
// stored checkpoint it cosigns.
func checkStored(ctx context.Context, st Store, c store.Cosignature, w Witness) (bool, error) {
	cps, err := st.ListCheckpoints(ctx, c.Log, c.Size, 1)
	if err != nil {
		return false, fmt.Errorf("reading the checkpoint %s cosigned: %w", w.Name, err)
	}
	if len(cps) == 0 || cps[0].Size != c.Size {
		return false, nil
	}
	text, ok := noteText(cps[0].Note)
	if !ok {
		return false, nil
	}
	_, ok = verifyLines(text, c.Line, w.verifier)
	return ok, nil
}

// Run offers each log's latest checkpoint to each witness every Interval
// until ctx ends, each witness and log on its own, backing off after
// errors. It never touches the ingest path: a slow or failing witness
// delays only its own cosignatures.
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, log := range s.logs() {
		wg.Go(func() { s.RunLog(ctx, log) })
	}
	wg.Wait()
}

// RunLog is Run for one log, which AddLog added.
func (s *Service) RunLog(ctx context.Context, log string) {
	var wg sync.WaitGroup
	for _, w := range s.cfg.Config.Witnesses {
		wg.Go(func() { s.run(ctx, w, log) })
	}
	wg.Wait()
}

func (s *Service) run(ctx context.Context, w Witness, log string) {
	for {
		err := s.Push(ctx, w.Name, log)
		if ctx.Err() != nil {
			return
		}
		wait := s.cfg.Interval
		if err != nil {
			s.cfg.Logger.WarnContext(ctx, "witnessing a checkpoint", "witness", w.Name, "log", log, "err", err)
			s.mu.Lock()
			f := s.status[key{w.Name, log}].failures
			s.mu.Unlock()
			for i := 1; i < f && wait < s.cfg.MaxBackoff; i++ {
				wait *= 2
			}
			wait = min(wait, s.cfg.MaxBackoff)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// maxConflicts bounds the 409 round trips of one push: a witness that
// keeps moving is either shared with a racing lbm or misbehaving.
const maxConflicts = 3

// Push offers log's latest checkpoint to the named witness once (with a
// resend from the witness's size after a 409), unless the witness has
// cosigned it already, and stores the cosignature. The outcome is kept as
// the witness's status; the error says what went wrong.
func (s *Service) Push(ctx context.Context, witness, log string) (err error) {
	var w Witness
	for _, x := range s.cfg.Config.Witnesses {
		if x.Name == witness {
			w = x
		}
	}
	k := key{witness, log}
	s.mu.Lock()
	st, ok := s.status[k]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("no witness %q for log %q", witness, log)
	}
	c, err := s.cfg.Store.LatestCheckpoint(ctx, log)
	if errors.Is(err, store.ErrNotFound) {
		return nil // nothing published yet
	}
	if err != nil {
		return fmt.Errorf("reading the latest checkpoint: %w", err)
	}
	s.mu.Lock()
	known, done := st.known, st.cosigned == c.Size && !st.cosignedAt.IsZero()
	if !done {
		st.lastAttempt = s.cfg.Now().UTC()
	}
	s.mu.Unlock()
	if done {
		return nil
	}
	defer func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			st.lastErr, st.failures = err.Error(), st.failures+1
		} else if err == nil {
			st.lastErr, st.failures = "", 0
		}
	}()
	src := tlog.StoreSource(s.cfg.Store, log)
	for range maxConflicts {
		if known > c.Size {
			// The witness has cosigned more of this log than lbm has
			// published: lbm's log went back, or someone else published
			// under its key. Either way it is for people to look at.
			return fmt.Errorf("the witness has cosigned size %d, beyond the latest checkpoint's %d", known, c.Size)
		}
		var proof [][]byte
		if known > 0 && known < c.Size {
			if proof, err = tlog.ProveConsistency(ctx, src, known, c.Size); err != nil {
				return fmt.Errorf("proving consistency from %d to %d: %w", known, c.Size, err)
			}
		}
		line, err := addCheckpoint(ctx, s.cfg.HTTP, w, known, proof, c.Note)
		var ce *ConflictError
		if errors.As(err, &ce) {
			known = ce.Known
			s.mu.Lock()
			st.known = known
			s.mu.Unlock()
			continue
		}
		if err != nil {
			return err
		}
		now := s.cfg.Now().UTC()
		err = s.cfg.Store.AddCosignature(ctx, store.Cosignature{Log: log, Size: c.Size, Witness: w.Name, Line: line, Time: now})
		if err != nil && !errors.Is(err, store.ErrExists) {
			return fmt.Errorf("storing the cosignature: %w", err)
		}
		s.mu.Lock()
		st.known, st.cosigned, st.cosignedAt = c.Size, c.Size, now
		s.mu.Unlock()
		return nil
	}
	return fmt.Errorf("the witness's size kept changing (%d 409s)", maxConflicts)
}

// PushAll pushes every log's latest checkpoint to every witness once.
func (s *Service) PushAll(ctx context.Context) error {
	var errs []error
	for _, w := range s.cfg.Config.Witnesses {
		for _, log := range s.logs() {
			if err := s.Push(ctx, w.Name, log); err != nil {
				errs = append(errs, fmt.Errorf("%s, %s log: %w", w.Name, log, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Checkpoint returns the checkpoint GET /log/{log}/checkpoint serves:
// under fail: open the newest, under fail: closed the newest that quorum
// witnesses cosigned (ErrNotCosigned while none is), with the cosignature
// lines of the configured witnesses appended. Each stored line is checked
// again against the witness's key as configured now, so a line under a
// key since removed is not served. store.ErrNotFound if the log has
// published nothing.
func (s *Service) Checkpoint(ctx context.Context, log string) ([]byte, error) {
	var c store.Checkpoint
	var err error
	if s.cfg.Config.Fail == FailClosed {
		c, err = s.cfg.Store.LatestCosigned(ctx, log, s.names, s.cfg.Config.Quorum)
		if errors.Is(err, store.ErrNotFound) {
			if _, lerr := s.cfg.Store.LatestCheckpoint(ctx, log); lerr != nil {
				return nil, lerr
			}
			return nil, ErrNotCosigned
		}
	} else {
		c, err = s.cfg.Store.LatestCheckpoint(ctx, log)
	}
	if err != nil {
		return nil, err
	}
	signed, count, err := s.cosign(ctx, log, c)
	if err != nil {
		return nil, err
	}
	if s.cfg.Config.Fail == FailClosed && count < s.cfg.Config.Quorum {
		// Stored lines that no longer check (the store was edited, or a
		// key changed) do not count: failing closed means a checkpoint
		// is served only with its quorum of valid cosignatures.
		s.cfg.Logger.ErrorContext(ctx, "stored cosignatures do not check", "log", log, "size", c.Size, "valid", count)
		return nil, ErrNotCosigned
	}
	return signed, nil
}

// cosign appends to c's note the stored cosignature lines that check,
// and returns how many do.
func (s *Service) cosign(ctx context.Context, log string, c store.Checkpoint) ([]byte, int, error) {
	cs, err := s.cfg.Store.ListCosignatures(ctx, log, c.Size)
	if err != nil {
		return nil, 0, err
	}
	text, ok := noteText(c.Note)
	if !ok {
		return nil, 0, fmt.Errorf("the %s checkpoint of size %d is not a signed note", log, c.Size)
	}
	count := 0
	out := append([]byte{}, c.Note...)
	for _, w := range s.cfg.Config.Witnesses {
		for _, co := range cs {
			if co.Witness != w.Name {
				continue
			}
			if line, ok := verifyLines(text, co.Line, w.verifier); ok {
				out = append(out, line...)
				count++
			}
		}
	}
	return out, count, nil
}

// Report is the witnesses' status, for GET /v1/witnesses and the log
// verification page.
type Report struct {
	Quorum    int             `json:"quorum"`
	Fail      Fail            `json:"fail"`
	Witnesses []WitnessReport `json:"witnesses"`
}

// WitnessReport is one witness's status.
type WitnessReport struct {
	Name string      `json:"name"`
	URL  string      `json:"url"`
	Key  string      `json:"key"`
	Logs []LogStatus `json:"logs"`
}

// LogStatus is what lbm knows, in memory since it started (the last
// cosignature also from the store), of one witness for one log.
type LogStatus struct {
	Log string `json:"log"`
	// CosignedSize is the size of the last checkpoint the witness
	// cosigned, CosignedAt when; both absent when it has cosigned none.
	CosignedSize *uint64    `json:"cosigned_size,omitempty"`
	CosignedAt   *time.Time `json:"cosigned_at,omitempty"`
	LastAttempt  *time.Time `json:"last_attempt,omitempty"`
	// LastError is the last attempt's error; absent when it succeeded.
	LastError string `json:"last_error,omitempty"`
}

// Report returns every witness's status for every log.
func (s *Service) Report() Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := Report{Quorum: s.cfg.Config.Quorum, Fail: s.cfg.Config.Fail, Witnesses: []WitnessReport{}}
	for _, w := range s.cfg.Config.Witnesses {
		wr := WitnessReport{Name: w.Name, URL: w.URL, Key: w.Key, Logs: []LogStatus{}}
		for _, log := range s.cfg.Logs {
			st := s.status[key{w.Name, log}]
			ls := LogStatus{Log: log, LastError: st.lastErr}
			if !st.cosignedAt.IsZero() {
				size, at := st.cosigned, st.cosignedAt
				ls.CosignedSize, ls.CosignedAt = &size, &at
			}
			if !st.lastAttempt.IsZero() {
				at := st.lastAttempt
				ls.LastAttempt = &at
			}
			wr.Logs = append(wr.Logs, ls)
		}
		r.Witnesses = append(r.Witnesses, wr)
	}
	return r
}
