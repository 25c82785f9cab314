// Package bench measures how fast lbm makes events durable on this machine
// (`lbm bench ingest`, the Go benchmarks in this package, and the
// comparison with Tessera in the separate bench/ module), and how fast an
// investigator's scoped queries answer on a store of millions of events
// (`lbm bench query`, query.go).
//
// # What is measured
//
// Every figure is for DURABLE ingest: events count only once lbm has
// acknowledged them, which it does only after the transaction that holds
// them has committed, with their content encrypted. Nothing is faked: each
// run opens a real store with [server.Open], exactly as `lbm serve` does,
// in a data directory of its own that must not hold events yet.
//
// There are two engines, and a run measures each mode on each of
// [Config.Engines]:
//
//   - [SQLite]: the files in the data directory, WAL, synchronous=FULL.
//   - [PostgreSQL]: two databases, events and keys, that the run creates on
//     the server [Config.DB] names and drops when it ends, so every run
//     starts from an empty schema as a new deployment would. lbm sets
//     synchronous_commit=on on every connection. The databases are made
//     with psql: only internal/store/postgres may use a Go driver, and lbm
//     itself never creates a database.
//
// The events are [Lines]: NDJSON from internal/simulate, about 512 bytes a
// line, the same bytes for the same event count and force size, so runs on
// different machines (and the Tessera program) ingest the same input.
//
// There are two modes:
//
//   - [InProcess]: Clients goroutines each take Batch lines at a time, parse
//     them (event.Parse) and append them with the activity log's
//     ingest.Writer. It is the ceiling the HTTP layer can approach.
//     A latency sample is one batch, from its first parse to its
//     acknowledgement.
//   - [HTTP]: the real server (server.Serve) listens on 127.0.0.1:0 in this
//     process; a source is registered, the NDJSON bodies of Batch lines are
//     encoded before the clock starts, and Clients concurrent clients post
//     them to POST /v1/events. A latency sample is one request, from sending
//     to the decoded 200 reply. Client and server share the machine's CPUs,
//     as they would not in production: the figure is a lower bound.
//
// Both end by checking that the activity log holds exactly the acknowledged
// events; a run that fails the check returns an error, not a figure.
//
// # Finding the bottleneck
//
// Each [Result] also says how busy the activity log's single writer was:
// the share of the run's wall time spent in its commit transactions
// (the store's UpdateLog, timed through an ingest.Observer). Near 1, the
// writer is the bottleneck: callers parse and seal faster than it commits,
// and more cores would not help. On PostgreSQL most of that time is the
// server's, which a CPU profile of this process does not show; compare the
// server's CPU time over the run (docs/benchmarks.md). StoreBytes is how
// much the run grew the store, for sizing.
//
// # Reading the results
//
// Throughput is acknowledged events over the wall time from the first batch
// to the last acknowledgement, excluding setup (generating and encoding
// events, opening the store, starting the server) and shutdown. MB/s counts
// the NDJSON input, newlines included, in units of 10⁶ bytes. p50 and p99
// are nearest-rank percentiles of the latency samples.
//
// Machines are noisy; compare runs on one machine, a few runs each, and
// always together with the settings and machine the [Report] prints.
//
// # Example
//
//	rep, err := bench.Run(ctx, bench.Config{Events: 200_000, DB: "postgres://postgres@localhost/postgres"})
//	if err != nil {
//		return err
//	}
//	rep.WriteText(os.Stdout)
package bench
