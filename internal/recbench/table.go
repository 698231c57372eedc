package recbench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Goals of issue 4: civicam at most 0.8× MediaMTX's CPU in the same run, and at most 1 MiB of
// memory a stream.
const (
	GoalCPURatio     = 0.8
	GoalRSSPerStream = 1 << 20
)

// GoalGBCPURatio is issue 14's: recording GB/T 28181 channels at most 1.2× the CPU of as many
// RTSP cameras in the same run.
const GoalGBCPURatio = 1.2

// WriteTable prints the results as a table, then, for every stream count measured with both
// systems, the ratios civicam/MediaMTX against the goals.
func WriteTable(w io.Writer, rs []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "streams\tsystem\tCPU-s/stream-min\tRSS MiB/stream\tpeak MiB/stream\tsent Mbit/s/stream\tkept Mbit/s/stream\tkept/sent\tlost pkts\tlag s\t")
	for _, r := range rs {
		if r.Window == 0 {
			fmt.Fprintf(tw, "%d\t%s\t-\t-\t-\t-\t-\t-\t-\t-\t\n", r.Streams, r.System)
			continue
		}
		lag := "-"
		if r.System == SystemCivicam || r.System == SystemCivicamGB {
			lag = fmt.Sprintf("%.1f", r.Lag.Seconds())
		}
		perStream := func(b int64) float64 { return float64(b) * 8 / r.Window.Seconds() / float64(r.Streams) / 1e6 }
		fmt.Fprintf(tw, "%d\t%s\t%.3f\t%.2f\t%.2f\t%.2f\t%.2f\t%.3f\t%d\t%s\t\n",
			r.Streams, r.System, r.CPUPerStreamMinute(), r.RSSPerStream()/(1<<20), r.PeakRSSPerStream()/(1<<20),
			perStream(r.Sent), perStream(r.Kept), r.KeptPerSent(), r.Lost, lag)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range rs {
		if r.Err != "" {
			fmt.Fprintf(w, "! %d streams, %s: %s\n", r.Streams, r.System, r.Err)
		}
	}
	byKey := map[[2]any]Result{}
	var counts []int
	for _, r := range rs {
		if _, seen := byKey[[2]any{r.Streams, SystemCivicam}]; !seen && r.System == SystemCivicam {
			counts = append(counts, r.Streams)
		}
		byKey[[2]any{r.Streams, r.System}] = r
	}
	for _, n := range counts {
		c := byKey[[2]any{n, SystemCivicam}]
		if c.Window == 0 {
			continue
		}
		line := fmt.Sprintf("%d streams: civicam %.2f MiB/stream (goal ≤ 1; Go heap live %.2f)", n,
			c.RSSPerStream()/(1<<20), float64(c.HeapLive)/float64(n)/(1<<20))
		if in, ok := byKey[[2]any{n, SystemIngest}]; ok && in.Window > 0 {
			line += fmt.Sprintf(", recording over ingest %.3f CPU-s/stream-min", c.CPUPerStreamMinute()-in.CPUPerStreamMinute())
		}
		if g, ok := byKey[[2]any{n, SystemCivicamGB}]; ok && g.Window > 0 {
			line += fmt.Sprintf("; GB/T 28181 over RTSP CPU %.2f× (goal ≤ %.1f×), RSS %.2f×, kept/sent %.3f beside %.3f",
				g.CPUPerStreamMinute()/c.CPUPerStreamMinute(), GoalGBCPURatio, g.RSSPerStream()/c.RSSPerStream(),
				g.KeptPerSent(), c.KeptPerSent())
		}
		if m, ok := byKey[[2]any{n, SystemMediaMTX}]; ok && m.Window > 0 {
			line += fmt.Sprintf("; civicam/MediaMTX CPU %.2f× (goal ≤ %.1f×), RSS %.2f×",
				c.CPUPerStreamMinute()/m.CPUPerStreamMinute(), GoalCPURatio, c.RSSPerStream()/m.RSSPerStream())
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	// A process's fixed share (runtime, binary, buffers) weighs less per stream the more streams
	// there are; the slope between counts is what one more stream costs.
	for _, sys := range []System{SystemCivicam, SystemCivicamGB, SystemMediaMTX, SystemIngest} {
		var prev *Result
		var slopes []string
		for _, n := range counts {
			r, ok := byKey[[2]any{n, sys}]
			if !ok || r.Window == 0 {
				continue
			}
			if prev != nil && r.Streams > prev.Streams {
				slope := (float64(r.RSS) - float64(prev.RSS)) / float64(r.Streams-prev.Streams)
				slopes = append(slopes, fmt.Sprintf("%d→%d: %.2f", prev.Streams, r.Streams, slope/(1<<20)))
			}
			prev = &r
		}
		if len(slopes) > 0 {
			if _, err := fmt.Fprintf(w, "%s memory per added stream, MiB: %s\n", sys, strings.Join(slopes, ", ")); err != nil {
				return err
			}
		}
	}
	return nil
}
