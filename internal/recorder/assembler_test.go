package recorder

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/format"

	"civicam/internal/clocktest"
	"civicam/internal/segment"
)

// clipAUs reads the simulator's H.264 clip (4 s, 25 fps, IDR every 25 frames) as access units.
func clipAUs(t testing.TB) [][][]byte {
	t.Helper()
	raw, err := os.ReadFile("../simcam/clips/testsrc2.h264")
	if err != nil {
		t.Fatalf("read clip: %v", err)
	}
	var aus [][][]byte
	var cur [][]byte
	for _, n := range bytes.Split(raw, []byte{0, 0, 1}) {
		n = bytes.TrimRight(n, "\x00")
		if len(n) == 0 {
			continue
		}
		if n[0]&0x1f == 9 { // access unit delimiter
			if cur != nil {
				aus = append(aus, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, n)
	}
	return append(aus, cur)
}

// feed gives the assembler frames [from, to) of the looped clip at 25 fps with PTS starting at
// base, advancing the clock with the stream (plus skew per frame), and returns the messages it
// handed to the writer.
func feed(t *testing.T, a *assembler, clk *clocktest.Clock, aus [][][]byte, from, to int, base int64, skew time.Duration) []writeMsg {
	t.Helper()
	return collect(a, func() {
		for i := from; i < to; i++ {
			a.accessUnit(aus[i%len(aus)], base+int64(i-from)*3600)
			clk.Advance(40*time.Millisecond + skew)
		}
	})
}

// collect returns the messages the assembler hands over while fn runs.
func collect(a *assembler, fn func()) []writeMsg {
	out := make(chan writeMsg, 10000)
	a.out = out
	fn()
	close(out)
	var ms []writeMsg
	for m := range out {
		ms = append(ms, m)
	}
	return ms
}

// part is one part as the writer receives it, gathered from the assembler's messages.
type part struct {
	newSegment bool
	segStart   time.Time
	baseTime   uint64 // from the segment start
	samples    []segment.Sample
	duration   uint64
	end        time.Time
}

// gather turns the assembler's messages into the parts the writer makes of them. A part's end
// must come after at least one sample, and a sample only within a segment.
func gather(t *testing.T, ms []writeMsg) []*part {
	t.Helper()
	var out []*part
	var cur *part
	var seg *segInfo
	var segTime uint64
	newSeg := false
	for _, m := range ms {
		switch m.kind {
		case msgSegment:
			if cur != nil {
				t.Fatalf("segment starts inside an unended part")
			}
			seg, segTime, newSeg = m.seg, 0, true
		case msgSamples:
			if seg == nil {
				t.Fatalf("samples before any segment")
			}
			if cur == nil {
				cur = &part{newSegment: newSeg, segStart: seg.start, baseTime: segTime}
				newSeg = false
			}
			for _, s := range m.samples {
				cur.samples = append(cur.samples, s)
				cur.duration += uint64(s.Duration)
				segTime += uint64(s.Duration)
			}
		case msgPartEnd:
			if cur == nil {
				t.Fatalf("part end without samples")
			}
			cur.end = m.end
			out = append(out, cur)
			cur = nil
		}
	}
	return out
}

func newTestAssembler(t *testing.T, clk *clocktest.Clock) *assembler {
	t.Helper()
	a, err := newAssembler(&format.H264{PayloadTyp: 96, PacketizationMode: 1}, time.Second, 2*time.Second, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAssemblerPartsAndSegments(t *testing.T) {
	aus := clipAUs(t)
	start := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	clk := clocktest.New(start)
	a := newTestAssembler(t, clk)
	ms := feed(t, a, clk, aus, 0, 250, 1000, 0) // 10 s
	parts := gather(t, append(ms, collect(a, a.finish)...))
	if len(parts) != 10 {
		t.Fatalf("emitted %d parts; want 10 of 1 s", len(parts))
	}
	var segStart time.Time
	for i, p := range parts {
		if len(p.samples) != 25 || p.duration != 90000 || p.samples[0].NonSync {
			t.Errorf("part %d = %d samples, %d ticks, sync %v; want 25, 90000, true", i, len(p.samples), p.duration, !p.samples[0].NonSync)
		}
		if want := i%2 == 0; p.newSegment != want {
			t.Errorf("part %d newSegment = %v; want %v (2 s segments)", i, p.newSegment, want)
		}
		if p.newSegment {
			if want := start.Add(time.Duration(i) * time.Second); !p.segStart.Equal(want) {
				t.Errorf("part %d segment start %v; want %v", i, p.segStart, want)
			}
			segStart = p.segStart
			if p.baseTime != 0 {
				t.Errorf("part %d base time %d; want 0 at a segment start", i, p.baseTime)
			}
		} else if p.baseTime != 90000 {
			t.Errorf("part %d base time %d; want 90000", i, p.baseTime)
		}
		if want := segStart.Add(time.Duration(p.baseTime+p.duration) * time.Second / 90000); !p.end.Equal(want) {
			t.Errorf("part %d ends %v; want %v", i, p.end, want)
		}
	}
}

func TestAssemblerTimelineJump(t *testing.T) {
	aus := clipAUs(t)
	start := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	clk := clocktest.New(start)
	a := newTestAssembler(t, clk)
	ms := feed(t, a, clk, aus, 0, 40, 1_000_000, 0)
	// The camera restarts its encoder: timestamps go back to zero, mid-GOP first.
	parts := gather(t, append(ms, feed(t, a, clk, aus, 10, 60, 0, 0)...))
	var starts []*part
	for _, p := range parts {
		if p.newSegment {
			starts = append(starts, p)
		}
	}
	if len(starts) != 2 {
		t.Fatalf("%d segments started; want 2 (the jump starts a new one)", len(starts))
	}
	// The frames before the next keyframe (15 of them) are dropped; the new segment is anchored
	// at the wall time its keyframe arrived.
	if want := start.Add(40*40*time.Millisecond + 15*40*time.Millisecond); !starts[1].segStart.Equal(want) {
		t.Errorf("second segment starts %v; want %v", starts[1].segStart, want)
	}
	for _, p := range parts {
		if p.duration > 2*90000 {
			t.Errorf("a part lasts %d ticks; the jump leaked into a duration", p.duration)
		}
	}
}

func TestAssemblerClockDrift(t *testing.T) {
	aus := clipAUs(t)
	start := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	clk := clocktest.New(start)
	a := newTestAssembler(t, clk)
	// The wall clock runs 12 ms per frame (30%) slower than the camera's: at the third segment
	// (4 s of stream, 2.8 s of wall time) the drift passes a second and the segment is re-anchored.
	parts := gather(t, feed(t, a, clk, aus, 0, 150, 0, -12*time.Millisecond))
	var starts []time.Time
	for _, p := range parts {
		if p.newSegment {
			starts = append(starts, p.segStart)
		}
	}
	want := []time.Time{start, start.Add(2 * time.Second), start.Add(100 * 28 * time.Millisecond)}
	if len(starts) < 3 {
		t.Fatalf("segment starts %v; want at least 3", starts)
	}
	for i := range want {
		if !starts[i].Equal(want[i]) {
			t.Errorf("segment %d starts %v; want %v", i, starts[i], want[i])
		}
	}
}
