// Package timespan is the half-open time range that recordings, playback, the lost-person
// search and the API all speak, with the three things they do to ranges: merge stretches that
// are close enough to be one, clip them to a window, and find the gaps they leave in it.
package timespan

import (
	"slices"
	"time"
)

// Range is the half-open interval [Start, End).
type Range struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Empty reports whether r holds no time at all.
func (r Range) Empty() bool { return !r.End.After(r.Start) }

// Duration is how long r lasts, zero when it is empty.
func (r Range) Duration() time.Duration {
	if r.Empty() {
		return 0
	}
	return r.End.Sub(r.Start)
}

// Clip is the part of r inside w; false when nothing of r is left.
func (r Range) Clip(w Range) (Range, bool) {
	if r.Start.Before(w.Start) {
		r.Start = w.Start
	}
	if r.End.After(w.End) {
		r.End = w.End
	}
	return r, !r.Empty()
}

// Merge returns rs in start order with empty ranges dropped and every range that begins less
// than gap after the end of the one before it joined to it. Ranges starting together keep their
// order, so callers passing rows in (start, id) order merge them as the rows read. rs is not
// changed.
func Merge(rs []Range, gap time.Duration) []Range {
	in := make([]Range, 0, len(rs))
	for _, r := range rs {
		if !r.Empty() {
			in = append(in, r)
		}
	}
	slices.SortStableFunc(in, func(a, b Range) int { return a.Start.Compare(b.Start) })
	out := in[:0]
	for _, r := range in {
		if n := len(out); n > 0 && r.Start.Sub(out[n-1].End) < gap {
			if r.End.After(out[n-1].End) {
				out[n-1].End = r.End
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

// Clip returns the parts of rs inside w, in their order, leaving out those that fall outside.
func Clip(rs []Range, w Range) []Range {
	var out []Range
	for _, r := range rs {
		if c, ok := r.Clip(w); ok {
			out = append(out, c)
		}
	}
	return out
}

// Gaps returns, in order, the stretches of w that none of rs covers. rs may be in any order and
// may overlap or reach outside w.
func Gaps(rs []Range, w Range) []Range {
	sorted := slices.Clone(rs)
	slices.SortStableFunc(sorted, func(a, b Range) int { return a.Start.Compare(b.Start) })
	var out []Range
	at := w.Start
	for _, r := range sorted {
		if r.Empty() {
			continue
		}
		if r.Start.After(at) && at.Before(w.End) {
			out = append(out, Range{Start: at, End: minTime(r.Start, w.End)})
		}
		if r.End.After(at) {
			at = r.End
		}
	}
	if w.End.After(at) {
		out = append(out, Range{Start: at, End: w.End})
	}
	return out
}

// Coverage is what was recorded within a window, and what was not.
type Coverage struct {
	Ranges []Range
	Gaps   []Range
}

// Cover merges rs with gap, clips the result to w and names the gaps left: merged before
// clipping, so that a stretch reaching into the window from outside is not split at its edge.
func Cover(rs []Range, gap time.Duration, w Range) Coverage {
	if w.Empty() {
		return Coverage{}
	}
	ranges := Clip(Merge(rs, gap), w)
	return Coverage{Ranges: ranges, Gaps: Gaps(ranges, w)}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
