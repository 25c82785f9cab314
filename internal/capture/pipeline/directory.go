package pipeline

import (
	"strings"
	"sync"
	"time"

	"github.com/lbm-project/lbm/internal/capture/mapping"
	"github.com/lbm-project/lbm/internal/store"
)

// Directory resolves names to directory ids from an in-memory index of
// the whole directory (300,000 people take some tens of megabytes), read
// again now and then: resolution happens for every event captured.
type Directory struct {
	mu     sync.RWMutex
	index  map[mapping.Key]map[string]string
	loaded time.Time
}

// Load replaces the index with people's keys. A key two people share
// resolves to neither: guessing would put one person's activity on
// another's record.
func (d *Directory) Load(people []store.PersonKeys, at time.Time) {
	index := map[mapping.Key]map[string]string{}
	for _, k := range []mapping.Key{mapping.ByID, mapping.ByUsername, mapping.ByEmail, mapping.ByNumber} {
		index[k] = make(map[string]string, len(people))
	}
	put := func(k mapping.Key, v, id string) {
		if v = mapping.Normalise(k, v); v == "" {
			return
		}
		if old, ok := index[k][v]; ok && old != id {
			index[k][v] = ""
			return
		}
		index[k][v] = id
	}
	for _, p := range people {
		put(mapping.ByID, p.ID, p.ID)
		if lower := strings.ToLower(p.ID); lower != p.ID {
			put(mapping.ByID, lower, p.ID)
		}
		put(mapping.ByNumber, p.Number, p.ID)
		put(mapping.ByUsername, p.Username, p.ID)
		for _, e := range p.Emails {
			put(mapping.ByEmail, e, p.ID)
		}
	}
	d.mu.Lock()
	d.index, d.loaded = index, at
	d.mu.Unlock()
}

// Loaded is when the index was last read.
func (d *Directory) Loaded() time.Time {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.loaded
}

// Resolve implements mapping.Directory; value is already normalised.
func (d *Directory) Resolve(k mapping.Key, value string) (string, bool) {
	if value == "" {
		return "", false
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	id := d.index[k][value]
	if id == "" && k == mapping.ByID {
		// Ids are compared as HR writes them, but a system may upper- or
		// lower-case them.
		id = d.index[k][strings.ToLower(value)]
	}
	return id, id != ""
}
