package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Report is what a benchmark run prints: what was measured, with which
// settings on which machine, and one Result per engine and mode.
type Report struct {
	Title    string   `json:"title"`
	Settings Settings `json:"settings"`
	Results  []Result `json:"results"`
}

// Result returns the result of mode on engine, if the report has one.
func (r *Report) Result(engine, mode string) (Result, bool) {
	for _, res := range r.Results {
		if res.Engine == engine && res.Mode == mode {
			return res, true
		}
	}
	return Result{}, false
}

// WriteJSON writes r as one indented JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes r as a table for people.
func (r *Report) WriteText(w io.Writer) error {
	s := r.Settings
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\n\n", r.Title)
	fmt.Fprintf(tw, "events\t%d simulated, force of %d people\n", s.Events, s.People)
	fmt.Fprintf(tw, "batch\t%d events\n", s.Batch)
	fmt.Fprintf(tw, "clients\t%d concurrent\n", s.Clients)
	s.writeMachine(tw)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "engine\tmode\tevents\tseconds\tevents/s\tMB/s\tlatency of\tp50\tp99\tretries\tlog size\tcommits\twriter busy\tstored B/event\t")
	for _, res := range r.Results {
		perEvent := 0.0
		if res.Events > 0 {
			perEvent = float64(res.StoreBytes) / float64(res.Events)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f\t%.0f\t%.1f\t%s\t%s\t%s\t%d\t%d\t%d\t%.0f%%\t%.0f\t\n",
			res.Engine, res.Mode, res.Events, res.Seconds, res.EventsPerSecond, res.MBPerSecond,
			res.Sample, formatMillis(res.P50Millis), formatMillis(res.P99Millis), res.Retries, res.LogSize,
			res.Commits, 100*res.WriterBusy, perEvent)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, res := range r.Results {
		if res.Detect {
			fmt.Fprintf(w, "%s/%s: detection ran alongside; it reached the end of the log %.2f s after the last acknowledgement, raising %d alerts\n",
				res.Engine, res.Mode, res.DetectCatchUp, res.Alerts)
		}
	}
	return nil
}

// formatMillis prints a latency with three significant figures.
func formatMillis(ms float64) string {
	return time.Duration(ms * float64(time.Millisecond)).Round(time.Duration(roundTo(ms))).String()
}

// roundTo returns the rounding unit, in nanoseconds, that leaves about three
// significant figures of ms milliseconds.
func roundTo(ms float64) float64 {
	ns := ms * 1e6
	unit := 1.0
	for ns >= 1000 {
		ns /= 10
		unit *= 10
	}
	return unit
}

// bar shows a Progress as a terminal progress bar.
type bar struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

// NewBar returns a Progress that draws a progress bar of acknowledged events
// on w, one bar per run.
func NewBar(w io.Writer) Progress { return &bar{w: w} }

func (b *bar) Start(run string, total int) {
	b.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(b.w),
		progressbar.OptionSetDescription(fmt.Sprintf("%-18s", run)),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("events"),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionSetWidth(30),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(b.w) }))
}

func (b *bar) Add(n int) { b.bar.Add(n) }

func (b *bar) Finish() {
	if !b.bar.IsFinished() {
		b.bar.Finish()
	}
}
