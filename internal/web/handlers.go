package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/ingest"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/tlog"
)

// IngestReply is the answer to POST /v1/events (see ingest.Reply).
type IngestReply = ingest.Reply

// takeIngestSlot bounds the ingest requests in flight, on every channel:
// past the bound a request is refused at once (503), before its body is read.
func (s *server) takeIngestSlot() (release func(), ok bool) {
	select {
	case s.ingestSe <- struct{}{}:
		return func() { <-s.ingestSe }, true
	default:
		return nil, false
	}
}

func (s *server) ingestEvents(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	release, ok := s.takeIngestSlot()
	if !ok {
		writeProblem(w, r, s.cfg.Logger, ingest.ErrOverloaded)
		return
	}
	defer release()
	log := s.logs[s.cfg.ActivityLog]
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	evs, err := ingest.DecodeNDJSON(body, p.Subject)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	if err := s.cfg.Capture.Admit(p.Subject, len(evs)); err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	res, err := log.Writer.Append(r.Context(), evs)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	reply := IngestReply{Log: log.Name, Accepted: res.Accepted, Duplicates: res.Duplicates, TreeSize: res.TreeSize,
		IDs: make([]string, len(res.IDs)), Indexes: res.Indexes}
	if reply.Indexes == nil {
		reply.Indexes = []uint64{}
	}
	for i, id := range res.IDs {
		reply.IDs[i] = id.String()
	}
	reply.Logs = res.Logs
	for i, idx := range res.Indexes {
		if res.Logs != nil && res.Logs[i] != log.Name {
			continue // a resend found in another shard: its index is there
		}
		if reply.FirstIndex == nil || idx < *reply.FirstIndex {
			reply.FirstIndex = &res.Indexes[i]
		}
		if reply.LastIndex == nil || idx > *reply.LastIndex {
			reply.LastIndex = &res.Indexes[i]
		}
	}
	writeJSON(w, http.StatusOK, reply)
}

// LogInfo describes one log for GET /v1/transparency-logs.
type LogInfo struct {
	Name        string `json:"name"`
	Origin      string `json:"origin"`
	VerifierKey string `json:"verifier_key"`
	URL         string `json:"url"` // prefix of checkpoint and tile/ paths
}

func (s *server) listLogs(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	out := struct {
		Logs []LogInfo `json:"logs"`
	}{Logs: []LogInfo{}}
	logs, err := s.allLogs(r.Context())
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	for _, l := range logs {
		out.Logs = append(out.Logs, LogInfo{Name: l.Name, Origin: l.Origin, VerifierKey: l.VerifierKey, URL: "/log/" + l.Name + "/"})
	}
	writeJSON(w, http.StatusOK, out)
}

// allLogs returns the node's own logs, then those other nodes write, by
// name.
func (s *server) allLogs(ctx context.Context) ([]Log, error) {
	out := slices.Clone(s.cfg.Logs)
	if s.cfg.OtherLogs != nil {
		others, err := s.cfg.OtherLogs(ctx)
		if err != nil {
			return nil, err
		}
		for _, l := range others {
			if _, own := s.logs[l.Name]; !own {
				out = append(out, l)
			}
		}
	}
	slices.SortFunc(out, func(a, b Log) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (s *server) logFor(r *http.Request) (Log, error) {
	name := r.PathValue("log")
	if l, ok := s.logs[name]; ok {
		return l, nil
	}
	if s.cfg.OtherLogs != nil {
		others, err := s.cfg.OtherLogs(r.Context())
		if err != nil {
			return Log{}, err
		}
		for _, l := range others {
			if l.Name == name {
				return l, nil
			}
		}
	}
	return Log{}, errNotFound
}

func (s *server) checkpoint(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	l, err := s.logFor(r)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	var signed []byte
	if s.cfg.Witnesses != nil {
		signed, err = s.cfg.Witnesses.Checkpoint(r.Context(), l.Name)
	} else {
		var c store.Checkpoint
		c, err = s.cfg.Store.LatestCheckpoint(r.Context(), l.Name)
		signed = c.Note
	}
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(signed)
}

// maxCheckpointPage bounds a page of GET /log/{log}/checkpoints.
const maxCheckpointPage = tlog.HistoryPage

// checkpoints lists the checkpoints the log published, so that anyone
// holding the verifier key can check every one against the log today
// (lbm verify history).
func (s *server) checkpoints(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	l, err := s.logFor(r)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	q := r.URL.Query()
	from, limit := uint64(0), maxCheckpointPage
	if v := q.Get("from"); v != "" {
		if from, err = strconv.ParseUint(v, 10, 64); err != nil {
			writeProblem(w, r, s.cfg.Logger, &validationError{"from", "must be a size: a whole number from 0"})
			return
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > maxCheckpointPage {
			writeProblem(w, r, s.cfg.Logger, &validationError{"limit", fmt.Sprintf("must be 1 to %d", maxCheckpointPage)})
			return
		}
	}
	cps, err := s.cfg.Store.ListCheckpoints(r.Context(), l.Name, from, limit)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	if s.cfg.Witnesses != nil {
		// Failing closed, the checkpoint served may be older than the
		// newest published: none newer is listed, or a verifier would
		// take a checkpoint still awaiting its witnesses for a log that
		// shrank.
		served, err := s.cfg.Witnesses.Checkpoint(r.Context(), l.Name)
		var size uint64
		if err == nil {
			var c tlog.Checkpoint
			if c, err = tlog.OpenCheckpoint(served, l.VerifierKey); err == nil {
				size = c.Size
			}
		}
		cps = slices.DeleteFunc(cps, func(c store.Checkpoint) bool { return err != nil || c.Size > size })
	}
	out := tlog.PublishedCheckpoints{Checkpoints: make([]tlog.PublishedCheckpoint, 0, len(cps))}
	for _, c := range cps {
		out.Checkpoints = append(out.Checkpoints, tlog.PublishedCheckpoint{Size: c.Size, Time: c.Time.UTC(), Note: string(c.Note)})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) tile(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	l, err := s.logFor(r)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	tp, err := tlog.ParseTilePath("tile/" + r.PathValue("path"))
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	var data []byte
	if tp.Entries {
		data, err = s.entryBundle(r, l.Name, tp)
	} else {
		data, err = s.hashTile(r, l.Name, tp)
	}
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if tp.Width == tlog.TileWidth {
		// A full tile never changes again.
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Write(data)
}

func (s *server) hashTile(r *http.Request, log string, tp tlog.TilePath) ([]byte, error) {
	t, err := s.cfg.Store.Tile(r.Context(), log, store.TileID{Level: tp.Level, Index: tp.Index})
	if err != nil {
		return nil, err
	}
	// A stored tile may have grown past the width asked for; its prefix is
	// the tile of that width, since tiles only ever grow.
	if uint64(len(t)) < tp.Width*tlog.HashSize {
		return nil, errNotFound
	}
	return t[:tp.Width*tlog.HashSize], nil
}

// entryBundle serves tile/entries/N: each leaf as a big-endian uint16
// length and the leaf bytes (C2SP tlog-tiles).
func (s *server) entryBundle(r *http.Request, log string, tp tlog.TilePath) ([]byte, error) {
	from := tp.Index * tlog.TileWidth
	entries, err := s.cfg.Store.Entries(r.Context(), log, from, from+tp.Width)
	if err != nil {
		return nil, err
	}
	if uint64(len(entries)) != tp.Width {
		return nil, errNotFound
	}
	var b []byte
	for _, e := range entries {
		if len(e.Leaf) > 0xffff {
			return nil, errors.New("leaf longer than an entry bundle can hold")
		}
		b = append(b, byte(len(e.Leaf)>>8), byte(len(e.Leaf)))
		b = append(b, e.Leaf...)
	}
	return b, nil
}

func (s *server) healthz(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

func (s *server) readyz(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(r.Context()); err != nil {
			s.cfg.Logger.Warn("not ready", "err", err)
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready")
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ready")
}

func (s *server) metrics(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	if s.cfg.Metrics == nil {
		writeProblem(w, r, s.cfg.Logger, errNotFound)
		return
	}
	s.cfg.Metrics.ServeHTTP(w, r)
}
