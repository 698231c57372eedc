package playback_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"civicam/internal/playback"
	"civicam/internal/playback/playbacktest"
	"civicam/internal/segment"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/timespan"
)

const cam = "0f8e2a54-1b7c-4d3e-9a6f-2c5d8e1f3a7b"

type fixture struct {
	db   *store.DB
	disk *segment.Disk
	segs []segment.Record
}

var (
	fixOnce sync.Once
	fix     *fixture
	fixErr  string
)

// recorded is one real recording shared by the tests: 2-second segments, a gap while the camera
// was off the air, then more.
func recorded(t *testing.T) *fixture {
	t.Helper()
	fixOnce.Do(func() {
		// The fixture outlives any one test, so it lives in its own directory, removed by TestMain.
		dir, err := os.MkdirTemp("", "playback-fixture")
		if err != nil {
			fixErr = err.Error()
			return
		}
		fixDir = dir
		db, err := store.Open(context.Background(), store.Config{SQLitePath: filepath.Join(dir, "civicam.db")})
		if err != nil {
			fixErr = err.Error()
			return
		}
		d := segment.NewDisk(filepath.Join(dir, "recordings"))
		ft := &fixtureT{TB: t}
		segs := playbacktest.Record(ft, db, d, cam, playbacktest.Options{SegmentLength: 2 * time.Second, Parts: 5, GapParts: 4})
		fix = &fixture{db: db, disk: d, segs: segs}
	})
	if fix == nil {
		t.Fatalf("recording fixture: %s", fixErr)
	}
	return fix
}

// fixtureT lets the shared fixture be built under whichever test asks first.
type fixtureT struct{ testing.TB }

var fixDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if fixDir != "" {
		os.RemoveAll(fixDir)
	}
	os.Exit(code)
}

func build(t *testing.T, f *fixture, start, end time.Time) (*playback.Plan, []byte) {
	t.Helper()
	b := playback.New(playback.Config{}, playback.Deps{Index: f.db, Files: f.disk})
	p, err := b.Plan(context.Background(), cam, start, end)
	if err != nil {
		t.Fatalf("Plan(%v, %v) = %v", start, end, err)
	}
	t.Cleanup(func() { p.Close() })
	var buf bytes.Buffer
	if n, err := p.WriteTo(&buf); err != nil || n != p.Size {
		t.Fatalf("WriteTo = %d, %v; want %d bytes", n, err, p.Size)
	}
	return p, buf.Bytes()
}

// checkMP4 parses out strictly and, with ffprobe installed, checks the container duration.
func checkMP4(t *testing.T, p *playback.Plan, out []byte) {
	t.Helper()
	f, err := playback.Inspect(bytes.NewReader(out), int64(len(out)))
	if err != nil {
		t.Fatalf("Inspect = %v", err)
	}
	if err := f.Check(); err != nil {
		t.Errorf("Check() = %v", err)
	}
	if len(f.Fragments) != len(p.Fragments) || segment.Ticks(f.Duration()) != p.Duration {
		t.Errorf("MP4 has %d fragments lasting %v; plan says %d, %v", len(f.Fragments), segment.Ticks(f.Duration()), len(p.Fragments), p.Duration)
	}
	for i, fr := range f.Fragments {
		if fr.Offset != p.Fragments[i].Offset || fr.Size != p.Fragments[i].Size {
			t.Errorf("fragment %d at %d+%d; plan says %d+%d", i+1, fr.Offset, fr.Size, p.Fragments[i].Offset, p.Fragments[i].Size)
		}
	}
	// Every sample still parses with the segment package's strict reader once the segment
	// header is put back in place of ours.
	if got := probeDuration(t, out); got >= 0 {
		if d := got - p.Duration; d < -time.Second/2 || d > time.Second/2 {
			t.Errorf("ffprobe duration %v; want %v", got, p.Duration)
		}
	}
}

// probeDuration is ffprobe's view of the MP4's duration, or -1 without ffprobe. It also decodes
// every frame with ffmpeg, which must report nothing.
func probeDuration(t *testing.T, mp4 []byte) time.Duration {
	t.Helper()
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Log("ffprobe not installed: only the strict parse ran")
		return -1
	}
	path := filepath.Join(t.TempDir(), "out.mp4")
	if err := os.WriteFile(path, mp4, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v: %s", err, out)
	}
	secs, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Fatalf("ffprobe duration %q: %v", out, err)
	}
	dec, err := exec.Command("ffmpeg", "-v", "error", "-xerror", "-i", path, "-f", "null", "-").CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(dec))) > 0 {
		t.Errorf("ffmpeg decode: %v: %s", err, dec)
	}
	return time.Duration(secs * float64(time.Second))
}

func TestSubRangeAcrossSegments(t *testing.T) {
	f := recorded(t)
	s0 := f.segs[0]
	if len(f.segs) < 3 {
		t.Fatalf("fixture has %d segments; want at least 3", len(f.segs))
	}
	start, end := s0.Start.Add(1500*time.Millisecond), s0.End.Add(1500*time.Millisecond) // crosses the first boundary
	p, out := build(t, f, start, end)
	checkMP4(t, p, out)
	if len(p.Sources) != 2 {
		t.Errorf("Sources = %d segments; want 2", len(p.Sources))
	}
	if p.Covered.Start.After(start) || p.Covered.End.Before(end) {
		t.Errorf("Covered = %v; want it to include [%v, %v)", p.Covered, start, end)
	}
	// Cut at part granularity: no more than a part (about a second) on either side.
	if p.Covered.Start.Before(start.Add(-1100*time.Millisecond)) || p.Covered.End.After(end.Add(1100*time.Millisecond)) {
		t.Errorf("Covered = %v..%v; want within a part of %v..%v", p.Covered.Start, p.Covered.End, start, end)
	}
	if len(p.Gaps) != 0 || len(p.Spans) != 1 {
		t.Errorf("Gaps = %v, Spans = %v; want none and one", p.Gaps, p.Spans)
	}
	// The MP4 begins with the first segment's init, unchanged.
	in, err := f.disk.Scan(s0.Path)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(mustPath(t, f.disk, s0.Path))
	if !bytes.Equal(out[:in.InitSize], raw[:in.InitSize]) {
		t.Errorf("MP4 does not begin with the segment's init")
	}
	if !p.Fragments[0].Keyframe {
		t.Errorf("first fragment is not a keyframe part")
	}
}

func mustPath(t *testing.T, d *segment.Disk, key string) string {
	p, err := d.Path(key)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGapReported(t *testing.T) {
	f := recorded(t)
	first, last := f.segs[0], f.segs[len(f.segs)-1]
	var hole timespan.Range
	for i := 1; i < len(f.segs); i++ {
		if d := f.segs[i].Start.Sub(f.segs[i-1].End); d > 500*time.Millisecond {
			hole = timespan.Range{Start: f.segs[i-1].End.UTC(), End: f.segs[i].Start.UTC()}
		}
	}
	if hole.Start.IsZero() {
		t.Fatalf("fixture segments %v have no gap", f.segs)
	}
	p, out := build(t, f, first.Start, last.End)
	checkMP4(t, p, out)
	if len(p.Spans) != 2 || len(p.Gaps) != 1 {
		t.Fatalf("Spans = %v, Gaps = %v; want two spans and one gap", p.Spans, p.Gaps)
	}
	if g := p.Gaps[0]; absDur(g.Start.Sub(hole.Start)) > 100*time.Millisecond || absDur(g.End.Sub(hole.End)) > 100*time.Millisecond {
		t.Errorf("Gaps[0] = %v..%v; want %v..%v", g.Start, g.End, hole.Start, hole.End)
	}
	// The MP4 holds recorded time only: its duration is the spans', not the wall-clock window's.
	var rec time.Duration
	for _, s := range p.Spans {
		rec += s.End.Sub(s.Start)
	}
	if absDur(rec-p.Duration) > 200*time.Millisecond || p.Duration >= last.End.Sub(first.Start) {
		t.Errorf("Duration = %v; spans cover %v of a %v window", p.Duration, rec, last.End.Sub(first.Start))
	}
	if p.Spans[1].Offset != p.Spans[0].End.Sub(p.Spans[0].Start).Round(0) && absDur(p.Spans[1].Offset-p.Spans[0].End.Sub(p.Spans[0].Start)) > 100*time.Millisecond {
		t.Errorf("second span at media %v; first span lasts %v", p.Spans[1].Offset, p.Spans[0].End.Sub(p.Spans[0].Start))
	}

	// A range inside the gap holds nothing.
	b := playback.New(playback.Config{}, playback.Deps{Index: f.db, Files: f.disk})
	mid := hole.Start.Add(hole.End.Sub(hole.Start) / 2)
	if _, err := b.Plan(context.Background(), cam, mid.Add(-100*time.Millisecond), mid.Add(100*time.Millisecond)); !errors.Is(err, playback.ErrNoFootage) {
		t.Errorf("Plan(inside the gap) = %v; want ErrNoFootage", err)
	}
}

func TestBadRanges(t *testing.T) {
	f := recorded(t)
	b := playback.New(playback.Config{MaxRange: time.Hour}, playback.Deps{Index: f.db, Files: f.disk})
	t0 := f.segs[0].Start
	for _, tc := range []struct {
		name       string
		start, end time.Time
		want       error
	}{
		{"reversed", t0.Add(time.Second), t0, playback.ErrBadRange},
		{"empty", t0, t0, playback.ErrBadRange},
		{"too long", t0, t0.Add(2 * time.Hour), playback.ErrBadRange},
		{"before any recording", t0.Add(-time.Hour), t0.Add(-time.Minute), playback.ErrNoFootage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := b.Plan(context.Background(), cam, tc.start, tc.end); !errors.Is(err, tc.want) {
				t.Errorf("Plan = %v; want %v", err, tc.want)
			}
		})
	}
}

// TestWriteRange: any byte range written on its own is exactly that slice of the whole, which
// is what serving HTTP Range requests relies on.
func TestWriteRange(t *testing.T) {
	f := recorded(t)
	p, whole := build(t, f, f.segs[0].Start, f.segs[1].End)
	fr := p.Fragments
	cases := [][2]int64{{0, p.Size}, {0, 1}, {p.Size - 1, 1}, {fr[0].Offset - 3, 10}, {fr[1].Offset + 5, fr[1].Size},
		{fr[0].Offset + 200, p.Size - fr[0].Offset - 200}, {17, 0}}
	for _, c := range cases {
		var buf bytes.Buffer
		n, err := p.WriteRange(&buf, c[0], c[1])
		if err != nil || n != c[1] || !bytes.Equal(buf.Bytes(), whole[c[0]:c[0]+c[1]]) {
			t.Errorf("WriteRange(%d, %d) = %d, %v, equal %v; want the slice", c[0], c[1], n, err, bytes.Equal(buf.Bytes(), whole[c[0]:c[0]+c[1]]))
		}
		// Through a writer without ReadFrom, as a zip entry is.
		var plain plainWriter
		if _, err := p.WriteRange(&plain, c[0], c[1]); err != nil || !bytes.Equal(plain.b, whole[c[0]:c[0]+c[1]]) {
			t.Errorf("WriteRange(%d, %d) to a plain writer differs: %v", c[0], c[1], err)
		}
	}
	if _, err := p.WriteRange(&bytes.Buffer{}, p.Size-1, 2); err == nil {
		t.Errorf("WriteRange past the end = nil; want an error")
	}
}

type plainWriter struct{ b []byte }

func (w *plainWriter) Write(b []byte) (int, error) { w.b = append(w.b, b...); return len(b), nil }

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// TestPlaybackWhileRecording: the segment being written plays too, up to its last complete
// part, so the last minute is not missing from playback.
func TestPlaybackWhileRecording(t *testing.T) {
	db := storetest.SQLite(t)
	d := segment.NewDisk(t.TempDir())
	const live = "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
	r := playbacktest.Start(t, db, d, live, playbacktest.Options{SegmentLength: time.Hour, Parts: 3})
	st := r.Status()
	if sealed, _ := db.RecordingSegments(context.Background(), live, time.Unix(0, 0), time.Now().Add(time.Hour)); len(sealed) != 0 {
		t.Fatalf("%d sealed segments; want none yet (one-hour segments)", len(sealed))
	}
	b := playback.New(playback.Config{}, playback.Deps{Index: db, Files: d})
	p, err := b.Plan(context.Background(), live, st.SegmentStart, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatalf("Plan of the open segment = %v", err)
	}
	defer p.Close()
	if len(p.Fragments) < 3 || len(p.Sources) != 1 || p.Sources[0].Record.Sealed || p.Sources[0].Record.Bytes == 0 {
		t.Fatalf("plan = %d parts from %+v; want at least 3 from the unsealed segment", len(p.Fragments), p.Sources)
	}
	var buf bytes.Buffer
	if _, err := p.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	checkMP4(t, p, buf.Bytes())
	r.Stop(t)
}
