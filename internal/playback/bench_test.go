package playback_test

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"civicam/internal/playback"
	"civicam/internal/playback/playbacktest"
	"civicam/internal/segment"
	"civicam/internal/store/storetest"
)

// BenchmarkPlanHour is the work before a one-hour playback's first byte (60 one-minute
// segments, 3600 parts): planning with the layout cache cold (every moof read from its file)
// and warm (a player's next request for the same range).
func BenchmarkPlanHour(b *testing.B) {
	db := storetest.SQLite(b)
	d := segment.NewDisk(filepath.Join(b.TempDir(), "recordings"))
	clip := playbacktest.Record(b, db, d, cam, playbacktest.Options{Parts: 4, SegmentLength: time.Minute})
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	playbacktest.Retime(b, db, d, cam, clip[0], t0, time.Hour, time.Minute)
	plan := func(b *testing.B, bl *playback.Builder) {
		for b.Loop() {
			p, err := bl.Plan(context.Background(), cam, t0, t0.Add(time.Hour))
			if err != nil {
				b.Fatal(err)
			}
			if len(p.Fragments) < 3000 {
				b.Fatalf("plan of an hour has %d parts", len(p.Fragments))
			}
			p.WriteRange(io.Discard, 0, 1)
			p.Close()
		}
	}
	b.Run("cold", func(b *testing.B) {
		plan(b, playback.New(playback.Config{CacheSegments: -1}, playback.Deps{Index: db, Files: d}))
	})
	b.Run("warm", func(b *testing.B) { plan(b, playback.New(playback.Config{}, playback.Deps{Index: db, Files: d})) })
}

// TestCachedPlanIsTheSame: a plan built from cached layouts writes the same bytes as one read
// from the files, and rewriting one plan's parts does not leak into the next.
func TestCachedPlanIsTheSame(t *testing.T) {
	f := recorded(t)
	bl := playback.New(playback.Config{}, playback.Deps{Index: f.db, Files: f.disk})
	write := func(start, end time.Time) []byte {
		p, err := bl.Plan(context.Background(), cam, start, end)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		var buf bytes.Buffer
		p.WriteTo(&buf)
		return buf.Bytes()
	}
	s := f.segs[0]
	a := write(s.Start, s.End.Add(time.Second))
	write(s.Start.Add(time.Second), s.End) // renumbers the same parts differently
	b := write(s.Start, s.End.Add(time.Second))
	_, c := build(t, f, s.Start, s.End.Add(time.Second))
	if !bytes.Equal(a, b) || !bytes.Equal(a, c) {
		t.Errorf("plans of the same range differ: %d, %d and %d bytes (cached, cached again, uncached)", len(a), len(b), len(c))
	}
}
