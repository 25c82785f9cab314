// Command sqlitedrivers measures lbm's log-writer workload on the two SQLite
// drivers for Go: modernc.org/sqlite (pure Go, lbm's choice, driver name
// "sqlite") and github.com/mattn/go-sqlite3 (cgo, driver name "sqlite3").
// Both are linked into this one binary; build it with CGO_ENABLED=1.
//
// For each run it opens a fresh database in a new temporary directory with
// WAL, synchronous=FULL, foreign keys, a busy timeout and one writer
// connection, creates lbm's log schema (read at run time from
// internal/store/sqlite/migrations/logs/0001_init.sql), and then replays, per
// transaction of --batch rows, what lbm's writer does
// (internal/store/sqlite/logs.go):
//
//   - the duplicate lookup, SELECT <entry columns> FROM entries INDEXED BY
//     entries_client_id ... client_id IN (...), for the batch's client ids
//     in chunks of 500;
//   - INSERTs of 32 rows each into entries, through one statement prepared
//     once per run, with rows sized like lbm's (id 16 B, leaf 565 B, meta
//     955 B, content 220 B, key_id 16 B, all random);
//   - upserts of 3 tiles of 8 KiB and one upsert of tree_state;
//   - the commit, which with synchronous=FULL fsyncs the WAL.
//
// Runs alternate between the drivers (modernc, mattn, modernc, ...). Each run
// reports rows/s and MB/s of row payload over the time spent in
// transactions (payload generation is outside the clock), p50/p99 of the
// whole transaction (BEGIN to COMMIT returned) and of the COMMIT alone, and
// how that time splits between lookup, insert, upsert and commit. The
// summary gives medians and the mattn/modernc ratio.
package main

import (
	"database/sql"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3"
	_ "modernc.org/sqlite"
)

const (
	logName     = "activity"
	source      = "pnc"
	people      = 1000
	leafSize    = 565
	metaSize    = 955
	contentSize = 220
	idSize      = 16
	keyIDSize   = 16
	tileSize    = 8192 // 256 hashes of 32 bytes
	tilesPerTx  = 3
	hashSize    = 32
)

const entryColumns = `log, idx, id, time, source, subject, client_id, leaf, meta, content, key_id`

var (
	rowsFlag    = flag.Int("rows", 200000, "rows to insert into entries per run")
	runsFlag    = flag.Int("runs", 3, "runs per driver; drivers alternate")
	batchFlag   = flag.Int("batch", 4096, "rows per transaction")
	perInsert   = flag.Int("per-insert", 32, "rows per INSERT statement")
	chunkFlag   = flag.Int("chunk", 500, "client ids per duplicate-lookup query")
	schemaFlag  = flag.String("schema", "../internal/store/sqlite/migrations/logs/0001_init.sql", "lbm's log schema, relative to the working directory")
	dirFlag     = flag.String("dir", "", "parent of the per-run temporary directories (default: os.TempDir); it should be on the disk you care about")
	driversFlag = flag.String("drivers", "modernc,mattn", "drivers in the order they alternate")
	lbmPragmas  = flag.Bool("lbm-pragmas", false, "also set cache_size(-65536) and wal_autocheckpoint(8192), as internal/store/sqlite does")
	keepFlag    = flag.Bool("keep", false, "keep the databases")
)

func main() {
	log.SetFlags(0)
	flag.Parse()
	if *rowsFlag <= 0 || *runsFlag <= 0 || *batchFlag <= 0 || *perInsert <= 0 || *chunkFlag <= 0 {
		log.Fatal("--rows, --runs, --batch, --per-insert and --chunk must be positive")
	}
	ddl, err := os.ReadFile(*schemaFlag)
	if err != nil {
		log.Fatalf("reading the schema (run from bench/, or pass --schema): %v", err)
	}
	drivers := strings.Split(*driversFlag, ",")
	for _, d := range drivers {
		if _, ok := dsns[d]; !ok {
			log.Fatalf("unknown driver %q (want modernc or mattn)", d)
		}
	}

	fmt.Printf("machine: %s, nproc %d, GOMAXPROCS %d, %s %s/%s\n", cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Printf("settings: rows %d, runs %d, batch %d, per-insert %d, lookup chunk %d, lbm-pragmas %v, schema %s\n",
		*rowsFlag, *runsFlag, *batchFlag, *perInsert, *chunkFlag, *lbmPragmas, *schemaFlag)
	fmt.Printf("row payload: %d bytes (bound values, integers as 8 bytes; client_id length varies)\n\n", rowPayload(*rowsFlag/2))

	results := map[string][]result{}
	var lats = map[string][]time.Duration{}
	fmt.Printf("%-8s %3s %8s %8s %8s %7s %8s %8s %8s %8s  %s\n",
		"driver", "run", "rows", "secs", "rows/s", "MB/s", "tx p50", "tx p99", "cmt p50", "cmt p99", "seconds in lookup/insert/upsert/commit")
	for r := 1; r <= *runsFlag; r++ {
		for _, d := range drivers {
			res, err := run(d, string(ddl), *rowsFlag, r == 1)
			if err != nil {
				log.Fatalf("%s run %d: %v", d, r, err)
			}
			results[d] = append(results[d], res)
			lats[d] = append(lats[d], res.tx...)
			fmt.Printf("%-8s %3d %8d %8.2f %8.0f %7.1f %8s %8s %8s %8s  %s\n",
				d, r, res.rows, res.elapsed.Seconds(), res.rowsPerSec(), res.mbPerSec(),
				ms(quantile(res.tx, 0.50)), ms(quantile(res.tx, 0.99)),
				ms(quantile(res.commit, 0.50)), ms(quantile(res.commit, 0.99)), res.split())
		}
	}

	fmt.Printf("\nmedians over %d runs:\n", *runsFlag)
	for _, d := range drivers {
		rs := results[d]
		fmt.Printf("%-8s rows/s %8.0f  MB/s %6.1f  tx p50 %s p99 %s  commit p50 %s p99 %s  (p99 over all %d transactions: %s)  SQLite %s\n", d,
			median(rs, func(r result) float64 { return r.rowsPerSec() }),
			median(rs, func(r result) float64 { return r.mbPerSec() }),
			ms(time.Duration(median(rs, func(r result) float64 { return float64(quantile(r.tx, 0.50)) }))),
			ms(time.Duration(median(rs, func(r result) float64 { return float64(quantile(r.tx, 0.99)) }))),
			ms(time.Duration(median(rs, func(r result) float64 { return float64(quantile(r.commit, 0.50)) }))),
			ms(time.Duration(median(rs, func(r result) float64 { return float64(quantile(r.commit, 0.99)) }))),
			len(lats[d]), ms(quantile(lats[d], 0.99)), rs[0].version)
	}
	if a, b := results["modernc"], results["mattn"]; len(a) > 0 && len(a) == len(b) {
		var ratios []float64
		for i := range a {
			ratios = append(ratios, b[i].rowsPerSec()/a[i].rowsPerSec())
		}
		sorted := slices.Clone(ratios)
		slices.Sort(sorted)
		rate := func(r result) float64 { return r.rowsPerSec() }
		fmt.Printf("\nmattn/modernc rows/s per run pair: %s\n", fmtRatios(ratios))
		fmt.Printf("median of the per-pair ratios: %.2fx; ratio of the medians: %.2fx\n",
			medianF(sorted), median(b, rate)/median(a, rate))
	}
}

// dsns are the two drivers' spellings of the same settings.
var dsns = map[string]func(path string) (driver, dsn string){
	"modernc": func(path string) (string, string) {
		q := url.Values{}
		pragmas := []string{"journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(ON)", "busy_timeout(30000)"}
		if *lbmPragmas {
			pragmas = append(pragmas, "cache_size(-65536)", "wal_autocheckpoint(8192)")
		}
		for _, p := range pragmas {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", "immediate")
		return "sqlite", "file:" + path + "?" + q.Encode()
	},
	"mattn": func(path string) (string, string) {
		dsn := "file:" + path + "?_journal_mode=WAL&_synchronous=FULL&_foreign_keys=on&_busy_timeout=30000&_txlock=immediate"
		if *lbmPragmas {
			// mattn has a DSN key for cache_size but not for
			// wal_autocheckpoint, which open() sets with PRAGMA on the
			// one connection.
			dsn += "&_cache_size=-65536"
		}
		return "sqlite3", dsn
	},
}

func open(name, path string) (*sql.DB, error) {
	driver, dsn := dsns[name](path)
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, err
	}
	// One writer connection, kept open, as lbm's writer pool.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, err
	}
	if *lbmPragmas && name == "mattn" {
		if _, err := db.Exec(`PRAGMA wal_autocheckpoint = 8192`); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

// checkPragmas makes sure both DSNs took effect: mattn, for one, is built
// with SQLITE_DEFAULT_WAL_SYNCHRONOUS=1 (NORMAL), so a DSN it ignored would
// skip the fsync on commit.
func checkPragmas(db *sql.DB) (string, error) {
	want := map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "busy_timeout": "30000"}
	if *lbmPragmas {
		want["cache_size"] = "-65536"
		want["wal_autocheckpoint"] = "8192"
	}
	var got []string
	for _, p := range []string{"journal_mode", "synchronous", "foreign_keys", "busy_timeout", "cache_size", "wal_autocheckpoint"} {
		var v string
		if err := db.QueryRow(`PRAGMA ` + p).Scan(&v); err != nil {
			return "", fmt.Errorf("PRAGMA %s: %v", p, err)
		}
		if w, ok := want[p]; ok && !strings.EqualFold(v, w) {
			return "", fmt.Errorf("PRAGMA %s is %s, want %s", p, v, w)
		}
		got = append(got, p+"="+v)
	}
	return strings.Join(got, " "), nil
}

type result struct {
	rows    int
	bytes   int64
	elapsed time.Duration   // sum of the transactions
	tx      []time.Duration // BEGIN to COMMIT returned
	commit  []time.Duration // COMMIT alone
	phases  [4]time.Duration
	version string
}

func (r result) rowsPerSec() float64 { return float64(r.rows) / r.elapsed.Seconds() }
func (r result) mbPerSec() float64   { return float64(r.bytes) / 1e6 / r.elapsed.Seconds() }
func (r result) split() string {
	var s []string
	for _, p := range r.phases {
		s = append(s, fmt.Sprintf("%.2f", p.Seconds()))
	}
	return strings.Join(s, "/")
}

// batchData is one transaction's rows, generated before its clock starts.
type batchData struct {
	first     int
	clientIDs []string
	args      [][]any // per row, in entryColumns order
	bytes     int64
}

type generator struct {
	rng    *rand.Rand
	keyIDs [people][]byte
	t0     int64
}

func newGenerator() *generator {
	g := &generator{rng: rand.New(rand.NewChaCha8([32]byte{1})), t0: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()}
	for i := range g.keyIDs {
		g.keyIDs[i] = g.bytes(keyIDSize)
	}
	return g
}

func (g *generator) bytes(n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := g.rng.Uint64()
		for j := i; j < min(n, i+8); j++ {
			b[j] = byte(v)
			v >>= 8
		}
	}
	return b
}

func (g *generator) batch(first, n int) batchData {
	b := batchData{first: first, clientIDs: make([]string, n), args: make([][]any, n)}
	for k := range n {
		i := first + k
		person := g.rng.IntN(people)
		subject := fmt.Sprintf("u%05d", person)
		clientID := fmt.Sprintf("sim-1-%d", i)
		b.clientIDs[k] = clientID
		b.args[k] = []any{logName, int64(i), g.bytes(idSize), g.t0 + int64(i)*1_000_000, source, subject, clientID,
			g.bytes(leafSize), g.bytes(metaSize), g.bytes(contentSize), g.keyIDs[person]}
		b.bytes += rowBytes(b.args[k])
	}
	return b
}

// rowBytes is the row's payload: the bytes of its bound values, integers
// counting 8.
func rowBytes(args []any) int64 {
	var n int64
	for _, a := range args {
		switch v := a.(type) {
		case string:
			n += int64(len(v))
		case []byte:
			n += int64(len(v))
		case int64:
			n += 8
		}
	}
	return n
}

func rowPayload(i int) int64 {
	return int64(len(logName)+8+idSize+8+len(source)+len("u00000")+len(fmt.Sprintf("sim-1-%d", i))) + leafSize + metaSize + contentSize + keyIDSize
}

func insertSQL(n int) string {
	return `INSERT INTO entries (` + entryColumns + `) VALUES ` + strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?,?,?,?,?),", n), ",")
}

func run(name, ddl string, n int, first bool) (res result, err error) {
	dir, err := os.MkdirTemp(*dirFlag, "sqlitedrivers-"+name+"-")
	if err != nil {
		return res, err
	}
	if !*keepFlag {
		defer os.RemoveAll(dir)
	}
	path := filepath.Join(dir, "lbm.db")
	db, err := open(name, path)
	if err != nil {
		return res, err
	}
	defer db.Close()
	pragmas, err := checkPragmas(db)
	if err != nil {
		return res, err
	}
	if err := db.QueryRow(`SELECT sqlite_version()`).Scan(&res.version); err != nil {
		return res, err
	}
	if _, err := db.Exec(ddl); err != nil {
		return res, fmt.Errorf("creating the schema: %v", err)
	}
	var haveIndex int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'entries_client_id'`).Scan(&haveIndex); err != nil {
		return res, err
	}
	indexed := "INDEXED BY entries_client_id "
	if haveIndex == 0 {
		indexed = ""
	}
	if first {
		fmt.Printf("%s: SQLite %s, %s, dir %s\n", name, res.version, pragmas, filepath.Dir(dir))
		if haveIndex == 0 {
			fmt.Printf("%s: the schema has no index entries_client_id; the lookup runs without INDEXED BY\n", name)
		}
	}

	// The full-size INSERT is prepared once for the run; inside each
	// transaction tx.Stmt reuses it on the one connection.
	full, err := db.Prepare(insertSQL(*perInsert))
	if err != nil {
		return res, err
	}
	defer full.Close()

	gen := newGenerator()
	tile := gen.bytes(tileSize)
	for start := 0; start < n; start += *batchFlag {
		b := gen.batch(start, min(*batchFlag, n-start))
		txNum := start / *batchFlag
		size := start + len(b.args)
		root := gen.bytes(hashSize)
		rng := gen.bytes(hashSize * popcount(size))

		t0 := time.Now()
		tx, err := db.Begin()
		if err != nil {
			return res, err
		}
		// Duplicate lookup, as FindClientIDs: scan every column of any hit.
		for ids := b.clientIDs; len(ids) > 0; {
			chunk := ids[:min(len(ids), *chunkFlag)]
			ids = ids[len(chunk):]
			args := make([]any, 0, len(chunk)+2)
			args = append(args, logName, source)
			for _, id := range chunk {
				args = append(args, id)
			}
			rows, err := tx.Query(`SELECT `+entryColumns+` FROM entries `+indexed+`WHERE log = ? AND source = ? AND client_id IS NOT NULL AND client_id IN (?`+strings.Repeat(",?", len(chunk)-1)+`)`, args...)
			if err != nil {
				tx.Rollback()
				return res, err
			}
			var hits int
			for rows.Next() {
				hits++
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				tx.Rollback()
				return res, err
			}
			if hits != 0 {
				tx.Rollback()
				return res, fmt.Errorf("duplicate lookup found %d rows for new client ids", hits)
			}
		}
		t1 := time.Now()
		stmt := tx.Stmt(full)
		for rest := b.args; len(rest) > 0; {
			k := min(len(rest), *perInsert)
			args := make([]any, 0, 11*k)
			for _, row := range rest[:k] {
				args = append(args, row...)
			}
			if k == *perInsert {
				_, err = stmt.Exec(args...)
			} else {
				_, err = tx.Exec(insertSQL(k), args...)
			}
			if err != nil {
				tx.Rollback()
				return res, err
			}
			rest = rest[k:]
		}
		t2 := time.Now()
		// Three tiles: a new one at level 0 and the growing ones above it.
		for l := range tilesPerTx {
			idx := txNum >> (4 * l)
			if _, err := tx.Exec(`INSERT INTO tiles (log, level, idx, hashes) VALUES (?, ?, ?, ?)
			ON CONFLICT (log, level, idx) DO UPDATE SET hashes = excluded.hashes`, logName, l, idx, tile); err != nil {
				tx.Rollback()
				return res, err
			}
		}
		if _, err := tx.Exec(`INSERT INTO tree_state (log, size, root, range) VALUES (?, ?, ?, ?)
		ON CONFLICT (log) DO UPDATE SET size = excluded.size, root = excluded.root, range = excluded.range`, logName, size, root, rng); err != nil {
			tx.Rollback()
			return res, err
		}
		t3 := time.Now()
		if err := tx.Commit(); err != nil {
			return res, err
		}
		t4 := time.Now()

		res.rows += len(b.args)
		res.bytes += b.bytes
		res.elapsed += t4.Sub(t0)
		res.tx = append(res.tx, t4.Sub(t0))
		res.commit = append(res.commit, t4.Sub(t3))
		res.phases[0] += t1.Sub(t0)
		res.phases[1] += t2.Sub(t1)
		res.phases[2] += t3.Sub(t2)
		res.phases[3] += t4.Sub(t3)
	}

	var count int
	if err := db.QueryRow(`SELECT count(*) FROM entries`).Scan(&count); err != nil {
		return res, err
	}
	if count != n {
		return res, fmt.Errorf("entries holds %d rows, want %d", count, n)
	}
	return res, nil
}

func popcount(x int) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}

// quantile is the nearest-rank quantile.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

func median(rs []result, f func(result) float64) float64 {
	var xs []float64
	for _, r := range rs {
		xs = append(xs, f(r))
	}
	slices.Sort(xs)
	return medianF(xs)
}

func medianF(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func fmtRatios(xs []float64) string {
	var s []string
	for _, x := range xs {
		s = append(s, fmt.Sprintf("%.2fx", x))
	}
	return strings.Join(s, ", ")
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", d.Seconds()*1000) }

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
