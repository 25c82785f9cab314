// Package bench is the root of a module of its own that compares lbm with
// other systems on the same machine and the same events. It is separate so
// that lbm itself never depends on what it is compared with: the product's
// go.mod does not change when a comparison is added here.
//
// The programs live in subdirectories; README.md beside this file says how to run them and
// how to read the results side by side with `lbm bench ingest`.
//
//   - tessera: Tessera's POSIX driver (storage/posix) on lbm's simulated
//     events.
//   - sqlitedrivers: lbm's log writer's SQL on modernc.org/sqlite against
//     mattn/go-sqlite3 (cgo), on lbm's own schema.
//
// They reach lbm's event generator and report format through
// github.com/lbm-project/lbm/internal/bench: this module's path lies inside
// github.com/lbm-project/lbm, so Go's internal-package rule admits the
// import, and the replace directive in go.mod builds against the working
// tree.
package bench
