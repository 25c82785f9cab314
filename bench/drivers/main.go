// Command drivers measures lbm's write workload on the two SQLite drivers
// Go offers: modernc.org/sqlite (pure Go, lbm's choice) and
// github.com/mattn/go-sqlite3 (cgo). It replays what the log writer does
// per batch — the duplicate lookup, multi-row INSERTs of realistic rows,
// tile and tree-state upserts, a durable commit — on lbm's own schema.
package main

import (
	"cmp"
	"crypto/rand"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3"
	_ "modernc.org/sqlite"
)

func main() {
	rows := flag.Int("rows", 200000, "entries to insert per run")
	runs := flag.Int("runs", 3, "runs per driver, alternating")
	schema := flag.String("schema", "../internal/store/sqlite/migrations/logs/0001_init.sql", "lbm's log schema")
	flag.Parse()
	ddl, err := os.ReadFile(*schema)
	if err != nil {
		log.Fatal(err)
	}
	results := map[string][]float64{}
	fmt.Printf("%-8s %8s %9s %8s %9s %9s\n", "driver", "rows", "seconds", "rows/s", "p50 tx", "p99 tx")
	for r := 0; r < *runs; r++ {
		for _, d := range []string{"modernc", "mattn"} {
			rate, err := run(d, string(ddl), *rows)
			if err != nil {
				log.Fatalf("%s: %v", d, err)
			}
			results[d] = append(results[d], rate)
		}
	}
	med := func(xs []float64) float64 { s := slices.Clone(xs); slices.Sort(s); return s[len(s)/2] }
	fmt.Printf("median rows/s: modernc %.0f, mattn %.0f; mattn/modernc = %.2f\n",
		med(results["modernc"]), med(results["mattn"]), med(results["mattn"])/med(results["modernc"]))
}

func open(driver, path string) (*sql.DB, error) {
	var dsn string
	switch driver {
	case "modernc":
		q := url.Values{}
		for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(ON)", "busy_timeout(30000)", "cache_size(-65536)", "wal_autocheckpoint(8192)"} {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", "immediate")
		dsn = "file:" + path + "?" + q.Encode()
		driver = "sqlite"
	case "mattn":
		dsn = "file:" + path + "?_journal_mode=WAL&_synchronous=FULL&_foreign_keys=on&_busy_timeout=30000&_txlock=immediate&_cache_size=-65536"
		driver = "sqlite3"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if driver == "sqlite3" {
		if _, err := db.Exec("PRAGMA wal_autocheckpoint=8192"); err != nil {
			return nil, err
		}
	}
	return db, nil
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

const batch = 4096
const perInsert = 32

func run(driver, ddl string, n int) (float64, error) {
	dir, err := os.MkdirTemp("", "drivers")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	db, err := open(driver, filepath.Join(dir, "lbm.db"))
	if err != nil {
		return 0, err
	}
	defer db.Close()
	if _, err := db.Exec(ddl); err != nil {
		return 0, err
	}
	leaf, meta, content, tile := random(565), random(955), random(220), random(8192)
	insert := `INSERT INTO entries (log, idx, id, time, source, subject, client_id, leaf, meta, content, key_id) VALUES ` +
		strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?,?,?,?,?),", perInsert), ",")
	var lat []time.Duration
	start := time.Now()
	for first := 0; first < n; first += batch {
		t0 := time.Now()
		tx, err := db.Begin()
		if err != nil {
			return 0, err
		}
		// The duplicate lookup the writer makes before assigning indices.
		for c := first; c < first+batch; c += 500 {
			args := []any{"activity", "pnc"}
			for i := c; i < c+500; i++ {
				args = append(args, fmt.Sprintf("sim-1-%d", i))
			}
			rs, err := tx.Query(`SELECT idx FROM entries INDEXED BY entries_client_id WHERE log = ? AND source = ? AND client_id IS NOT NULL AND client_id IN (?`+strings.Repeat(",?", 499)+`)`, args...)
			if err != nil {
				return 0, err
			}
			for rs.Next() {
			}
			rs.Close()
		}
		stmt, err := tx.Prepare(insert)
		if err != nil {
			return 0, err
		}
		for i := first; i < first+batch; i += perInsert {
			args := make([]any, 0, 11*perInsert)
			for j := i; j < i+perInsert; j++ {
				id := random(16)
				args = append(args, "activity", j, id, int64(j)*1e6, "pnc", fmt.Sprintf("u%05d", j%1000), fmt.Sprintf("sim-1-%d", j), leaf, meta, content, id)
			}
			if _, err := stmt.Exec(args...); err != nil {
				return 0, err
			}
		}
		stmt.Close()
		for l := 0; l < 3; l++ {
			if _, err := tx.Exec(`INSERT INTO tiles (log, level, idx, hashes) VALUES (?, ?, ?, ?) ON CONFLICT (log, level, idx) DO UPDATE SET hashes = excluded.hashes`, "activity", l, first/batch, tile); err != nil {
				return 0, err
			}
		}
		if _, err := tx.Exec(`INSERT INTO tree_state (log, size, root, range) VALUES (?, ?, ?, ?) ON CONFLICT (log) DO UPDATE SET size = excluded.size, root = excluded.root, range = excluded.range`, "activity", first+batch, tile[:32], tile[:640]); err != nil {
			return 0, err
		}
		if err := tx.Commit(); err != nil {
			return 0, err
		}
		lat = append(lat, time.Since(t0))
	}
	secs := time.Since(start).Seconds()
	slices.SortFunc(lat, cmp.Compare)
	rate := float64(n) / secs
	fmt.Printf("%-8s %8d %9.2f %8.0f %9s %9s\n", driver, n, secs, rate, lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)*99/100].Round(time.Millisecond))
	return rate, nil
}
