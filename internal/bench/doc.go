// Package bench measures how fast lbm makes events durable on this machine.
// It backs `lbm bench ingest`, the Go benchmarks in this package, and the
// comparison with Tessera in the separate bench/ module.
//
// # What is measured
//
// Every figure is for DURABLE ingest: events count only once lbm has
// acknowledged them, which it does only after the SQLite transaction that
// holds them has committed (WAL, synchronous=FULL) with their content
// encrypted. Nothing is faked: each mode opens a real data directory with
// [server.Open], exactly as `lbm serve` does, in a directory of its own that
// must not hold events yet.
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
//	rep, err := bench.Run(ctx, bench.Config{Events: 200_000})
//	if err != nil {
//		return err
//	}
//	rep.WriteText(os.Stdout)
package bench
