package timespan

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// at is t0 plus s seconds.
func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// rg is [a, b) in seconds after t0.
func rg(a, b float64) Range { return Range{Start: at(a), End: at(b)} }

// show writes ranges as seconds after t0, so that failures read as the tables do.
func show(rs []Range) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%g-%g", r.Start.Sub(t0).Seconds(), r.End.Sub(t0).Seconds())
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func equal(a, b []Range) bool {
	return slices.EqualFunc(a, b, func(x, y Range) bool { return x.Start.Equal(y.Start) && x.End.Equal(y.End) })
}

func TestMerge(t *testing.T) {
	const gap = 1500 * time.Millisecond
	for _, tc := range []struct {
		name string
		in   []Range
		want []Range
	}{
		{"none", nil, nil},
		{"one", []Range{rg(0, 60)}, []Range{rg(0, 60)}},
		{"touching", []Range{rg(0, 60), rg(60, 120)}, []Range{rg(0, 120)}},
		{"hole under the gap", []Range{rg(0, 60), rg(61.4, 120)}, []Range{rg(0, 120)}},
		{"hole of exactly the gap", []Range{rg(0, 60), rg(61.5, 120)}, []Range{rg(0, 60), rg(61.5, 120)}},
		{"out of order", []Range{rg(300, 360), rg(60, 120), rg(0, 60)}, []Range{rg(0, 120), rg(300, 360)}},
		{"overlapping", []Range{rg(0, 100), rg(50, 80), rg(90, 130)}, []Range{rg(0, 130)}},
		{"contained keeps the longer end", []Range{rg(0, 100), rg(10, 20), rg(101, 102)}, []Range{rg(0, 102)}},
		{"empty ranges dropped", []Range{rg(0, 0), rg(10, 20), rg(30, 25), rg(20.5, 20.5)}, []Range{rg(10, 20)}},
		{"an empty range does not bridge", []Range{rg(0, 10), rg(11, 11), rg(12, 20)}, []Range{rg(0, 10), rg(12, 20)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.in)
			if got := Merge(tc.in, gap); !equal(got, tc.want) {
				t.Errorf("Merge(%s) = %s; want %s", show(tc.in), show(got), show(tc.want))
			}
			if !equal(in, tc.in) {
				t.Errorf("Merge(%s) changed its argument to %s", show(in), show(tc.in))
			}
		})
	}
	t.Run("zero gap joins overlaps only", func(t *testing.T) {
		in := []Range{rg(0, 10), rg(5, 15), rg(15, 20)}
		if got, want := Merge(in, 0), []Range{rg(0, 15), rg(15, 20)}; !equal(got, want) {
			t.Errorf("Merge(%s, 0) = %s; want %s", show(in), show(got), show(want))
		}
	})
}

func TestClip(t *testing.T) {
	w := rg(100, 200)
	for _, tc := range []struct {
		name string
		in   []Range
		want []Range
	}{
		{"inside", []Range{rg(110, 120)}, []Range{rg(110, 120)}},
		{"straddling both edges", []Range{rg(50, 150), rg(190, 260)}, []Range{rg(100, 150), rg(190, 200)}},
		{"covering the window", []Range{rg(0, 300)}, []Range{rg(100, 200)}},
		{"outside", []Range{rg(0, 50), rg(250, 300)}, nil},
		{"touching an edge", []Range{rg(50, 100), rg(200, 250)}, nil},
		{"order kept", []Range{rg(150, 160), rg(110, 120)}, []Range{rg(150, 160), rg(110, 120)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Clip(tc.in, w); !equal(got, tc.want) {
				t.Errorf("Clip(%s, %s) = %s; want %s", show(tc.in), show([]Range{w}), show(got), show(tc.want))
			}
		})
	}
	t.Run("one range", func(t *testing.T) {
		if got, ok := rg(50, 150).Clip(w); !ok || !equal([]Range{got}, []Range{rg(100, 150)}) {
			t.Errorf("Clip(50-150) = %s, %v; want 100-150, true", show([]Range{got}), ok)
		}
		if got, ok := rg(200, 250).Clip(w); ok {
			t.Errorf("Clip(200-250) = %s, true; want nothing", show([]Range{got}))
		}
	})
}

func TestGaps(t *testing.T) {
	w := rg(0, 100)
	for _, tc := range []struct {
		name string
		in   []Range
		want []Range
	}{
		{"nothing recorded", nil, []Range{rg(0, 100)}},
		{"all recorded", []Range{rg(0, 100)}, nil},
		{"middle", []Range{rg(20, 30), rg(50, 60)}, []Range{rg(0, 20), rg(30, 50), rg(60, 100)}},
		{"reaching outside", []Range{rg(-10, 10), rg(90, 150)}, []Range{rg(10, 90)}},
		{"outside only", []Range{rg(-50, -10), rg(120, 150)}, []Range{rg(0, 100)}},
		{"out of order and overlapping", []Range{rg(50, 70), rg(10, 60), rg(65, 80)}, []Range{rg(0, 10), rg(80, 100)}},
		{"touching ranges leave no gap", []Range{rg(0, 40), rg(40, 100)}, nil},
		{"empty ranges ignored", []Range{rg(30, 30), rg(40, 50)}, []Range{rg(0, 40), rg(50, 100)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Gaps(tc.in, w); !equal(got, tc.want) {
				t.Errorf("Gaps(%s) = %s; want %s", show(tc.in), show(got), show(tc.want))
			}
		})
	}
}

func TestCover(t *testing.T) {
	const gap = 1500 * time.Millisecond
	for _, tc := range []struct {
		name       string
		in         []Range
		w          Range
		ranges     []Range
		gaps       []Range
		wantsEmpty bool
	}{
		{name: "merged then clipped", in: []Range{rg(0, 60), rg(60, 120), rg(300, 360)}, w: rg(30, 330),
			ranges: []Range{rg(30, 120), rg(300, 330)}, gaps: []Range{rg(120, 300)}},
		// Merged before clipping: the hole at 99.5 is under the gap, so the stretch is one even
		// though the window starts inside it.
		{name: "stretch from before the window", in: []Range{rg(0, 99), rg(100, 200)}, w: rg(99.5, 150),
			ranges: []Range{rg(99.5, 150)}},
		{name: "nothing", w: rg(0, 10), gaps: []Range{rg(0, 10)}},
		{name: "empty window", in: []Range{rg(0, 10)}, w: rg(5, 5), wantsEmpty: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Cover(tc.in, gap, tc.w)
			if tc.wantsEmpty {
				if got.Ranges != nil || got.Gaps != nil {
					t.Errorf("Cover(%s) = ranges %s gaps %s; want nothing", show(tc.in), show(got.Ranges), show(got.Gaps))
				}
				return
			}
			if !equal(got.Ranges, tc.ranges) || !equal(got.Gaps, tc.gaps) {
				t.Errorf("Cover(%s) in %s = ranges %s gaps %s; want ranges %s gaps %s", show(tc.in), show([]Range{tc.w}),
					show(got.Ranges), show(got.Gaps), show(tc.ranges), show(tc.gaps))
			}
		})
	}
}
