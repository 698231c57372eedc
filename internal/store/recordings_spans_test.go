package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"civicam/internal/segment"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/timespan"
)

// TestRecordedRanges: several cameras in one query, merged across segment joins, clipped to the
// window, unsealed and other cameras' segments left out, a camera with nothing absent.
func TestRecordedRanges(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// cam1: 0-60, 60-120 (joined), 300-360; cam2: -30..30 (straddles the start); cam3: unsealed.
		seal(t, db, "cam1", "cam1/1.mp4", at(0), at(60))
		seal(t, db, "cam1", "cam1/2.mp4", at(60), at(120))
		seal(t, db, "cam1", "cam1/3.mp4", at(300), at(360))
		seal(t, db, "cam2", "cam2/1.mp4", at(-30), at(30))
		seal(t, db, "cam4", "cam4/1.mp4", at(100), at(200))
		if err := db.SegmentStarted(ctx, "cam3", "cam3/1.mp4", at(10)); err != nil {
			t.Fatal(err)
		}
		got, err := db.RecordedRanges(ctx, []string{"cam1", "cam2", "cam3", "cam5"}, at(0), at(330))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]timespan.Range{
			"cam1": {{Start: at(0), End: at(120)}, {Start: at(300), End: at(330)}},
			"cam2": {{Start: at(0), End: at(30)}},
		}
		if len(got) != len(want) {
			t.Fatalf("RecordedRanges = %v; want %v", got, want)
		}
		for cam, w := range want {
			if !slices.EqualFunc(got[cam], w, func(a, b timespan.Range) bool { return a.Start.Equal(b.Start) && a.End.Equal(b.End) }) {
				t.Errorf("RecordedRanges[%s] = %v; want %v", cam, got[cam], w)
			}
		}
		if got, _ := db.RecordedRanges(ctx, []string{"cam1"}, at(10), at(10)); len(got) != 0 {
			t.Errorf("RecordedRanges(empty window) = %v; want none", got)
		}
	})
}

// TestRecordedRangesBatches: more cameras than one query binds.
func TestRecordedRangesBatches(t *testing.T) {
	db := storetest.SQLite(t)
	var ids []string
	for i := range 1200 {
		id := fmt.Sprintf("cam%04d", i)
		ids = append(ids, id)
		if i%100 == 0 {
			seal(t, db, id, id+"/1.mp4", at(0), at(60))
		}
	}
	got, err := db.RecordedRanges(context.Background(), ids, at(0), at(60))
	if err != nil || len(got) != 12 {
		t.Fatalf("RecordedRanges(1200 cameras) = %d cameras, %v; want 12", len(got), err)
	}
}

// TestRecordingSpans drives the recording index through what its writers do — segments started
// and sealed in order, outages, retention deleting the oldest, a segment deleted or cut in the
// middle, re-sealing — and checks after each step that the spans the triggers keep give
// RecordedRanges exactly what RecordingRanges computes from the segments themselves.
func TestRecordingSpans(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(7, 9))
		cams := []string{"camA", "camB", "camC"}
		type seg struct {
			cam, path  string
			start, end time.Time
		}
		var live []seg
		next := map[string]time.Time{}
		n := 0
		check := func(step string) {
			t.Helper()
			windows := [][2]time.Time{{at(-1e6), at(1e6)}, {at(0), at(600)}, {at(900), at(2000)}, {at(1234.5), at(1500.25)}}
			for _, w := range windows {
				got, err := db.RecordedRanges(ctx, cams, w[0], w[1])
				if err != nil {
					t.Fatal(err)
				}
				for _, cam := range cams {
					cov, err := db.RecordingRanges(ctx, cam, w[0], w[1])
					if err != nil {
						t.Fatal(err)
					}
					want := make([]timespan.Range, len(cov.Ranges))
					for i, r := range cov.Ranges {
						want[i] = timespan.Range{Start: r.Start, End: r.End}
					}
					if !slices.EqualFunc(got[cam], want, func(a, b timespan.Range) bool { return a.Start.Equal(b.Start) && a.End.Equal(b.End) }) {
						t.Fatalf("after %s: RecordedRanges[%s] in %s..%s = %v; want %v", step, cam, w[0], w[1], got[cam], want)
					}
				}
			}
		}
		for step := range 120 {
			cam := cams[rng.IntN(len(cams))]
			switch op := rng.IntN(10); {
			case op < 6: // record a segment, after a hole now and then
				st := next[cam]
				if st.IsZero() {
					st = at(0)
				}
				if rng.IntN(5) == 0 {
					st = st.Add(time.Duration(rng.IntN(4000)) * time.Millisecond)
				}
				end := st.Add(time.Duration(20+rng.IntN(40)) * time.Second)
				n++
				path := fmt.Sprintf("%s/%d.mp4", cam, n)
				if err := db.SegmentStarted(ctx, cam, path, st); err != nil {
					t.Fatal(err)
				}
				check(fmt.Sprintf("step %d: start %s", step, path))
				if err := db.SegmentSealed(ctx, segment.Record{CameraID: cam, Path: path, Start: st, End: end, Sealed: true}); err != nil {
					t.Fatal(err)
				}
				live = append(live, seg{cam, path, st, end})
				next[cam] = end
				check(fmt.Sprintf("step %d: seal %s", step, path))
			case op < 8 && len(live) > 0: // retention: the oldest of a camera
				i := slices.IndexFunc(live, func(s seg) bool { return s.cam == cam })
				if i < 0 {
					continue
				}
				if err := db.DeleteSegment(ctx, live[i].path); err != nil {
					t.Fatal(err)
				}
				live = slices.Delete(live, i, i+1)
				check(fmt.Sprintf("step %d: retention", step))
			case op < 9 && len(live) > 0: // any segment deleted
				i := rng.IntN(len(live))
				if err := db.DeleteSegment(ctx, live[i].path); err != nil {
					t.Fatal(err)
				}
				live = slices.Delete(live, i, i+1)
				check(fmt.Sprintf("step %d: delete middle", step))
			case len(live) > 0: // a segment re-sealed shorter (cut to its last complete part)
				i := rng.IntN(len(live))
				s := &live[i]
				s.end = s.start.Add(s.end.Sub(s.start) / 2)
				if err := db.SegmentSealed(ctx, segment.Record{CameraID: s.cam, Path: s.path, Start: s.start, End: s.end, Sealed: true}); err != nil {
					t.Fatal(err)
				}
				check(fmt.Sprintf("step %d: cut %s", step, s.path))
			}
		}
	})
}

// spansOf reads recording_spans as they are, per camera in start order.
func spansOf(t testing.TB, db *store.DB) map[string][]timespan.Range {
	t.Helper()
	rows, err := db.SQL().Query(`SELECT camera_id, start_at, end_at FROM recording_spans ORDER BY camera_id, start_at`)
	if err != nil {
		t.Fatalf("select recording_spans: %v", err)
	}
	defer rows.Close()
	out := map[string][]timespan.Range{}
	for rows.Next() {
		var cam string
		var s, e int64
		if err := rows.Scan(&cam, &s, &e); err != nil {
			t.Fatal(err)
		}
		out[cam] = append(out[cam], timespan.Range{Start: store.FromMicros(s), End: store.FromMicros(e)})
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// mergedSegments is what recording_spans must hold: each camera's sealed segments, read from
// recordings, merged in Go by the one rule.
func mergedSegments(t testing.TB, db *store.DB) map[string][]timespan.Range {
	t.Helper()
	rows, err := db.SQL().Query(`SELECT camera_id, start_at, end_at FROM recordings WHERE sealed ORDER BY camera_id, start_at, id`)
	if err != nil {
		t.Fatalf("select recordings: %v", err)
	}
	defer rows.Close()
	segs := map[string][]timespan.Range{}
	for rows.Next() {
		var cam string
		var s, e int64
		if err := rows.Scan(&cam, &s, &e); err != nil {
			t.Fatal(err)
		}
		segs[cam] = append(segs[cam], timespan.Range{Start: store.FromMicros(s), End: store.FromMicros(e)})
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	out := map[string][]timespan.Range{}
	for cam, rs := range segs {
		if m := timespan.Merge(rs, store.RecordingMergeGap); len(m) > 0 {
			out[cam] = m
		}
	}
	return out
}

func sameSpans(a, b map[string][]timespan.Range) bool {
	if len(a) != len(b) {
		return false
	}
	for cam, rs := range a {
		if !slices.EqualFunc(rs, b[cam], func(x, y timespan.Range) bool { return x.Start.Equal(y.Start) && x.End.Equal(y.End) }) {
			return false
		}
	}
	return true
}

// TestRecordingSpansMatchMerge is a property test: whatever sequence of starts, seals, re-seals
// (shorter, longer, overlapping the next), seals of entries never started, single and batch
// deletions the store is given, recording_spans afterwards equals the camera's sealed segments
// merged in Go. Holes are drawn around the merge gap, one microsecond either side included.
func TestRecordingSpansMatchMerge(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// Each seed records its own cameras into the one database; the model holds them all.
		type seg struct {
			cam, path  string
			start, end time.Time
			sealed     bool
		}
		var segs []*seg
		next := map[string]time.Time{}
		n := 0
		for seed := range uint64(4) {
			rng := rand.New(rand.NewPCG(seed, 11))
			cams := []string{fmt.Sprintf("s%d-a", seed), fmt.Sprintf("s%d-b", seed)}
			hole := func() time.Duration {
				switch rng.IntN(6) {
				case 0:
					return store.RecordingMergeGap - time.Microsecond
				case 1:
					return store.RecordingMergeGap
				case 2:
					return store.RecordingMergeGap + time.Microsecond
				case 3:
					return time.Duration(rng.IntN(5000)) * time.Millisecond
				}
				return 0
			}
			pick := func(sealed bool) *seg {
				var c []*seg
				for _, s := range segs {
					if s.sealed == sealed {
						c = append(c, s)
					}
				}
				if len(c) == 0 {
					return nil
				}
				return c[rng.IntN(len(c))]
			}
			drop := func(gone ...*seg) {
				segs = slices.DeleteFunc(segs, func(s *seg) bool { return slices.Contains(gone, s) })
			}
			for step := range 150 {
				cam := cams[rng.IntN(len(cams))]
				var what string
				switch op := rng.IntN(20); {
				case op < 7: // the recorder: start, then seal
					st := next[cam]
					if st.IsZero() {
						st = at(0)
					}
					st = st.Add(hole())
					end := st.Add(time.Duration(1+rng.IntN(30)) * time.Second)
					n++
					s := &seg{cam: cam, path: fmt.Sprintf("%s/%d.mp4", cam, n), start: st, end: end}
					if err := db.SegmentStarted(ctx, cam, s.path, st); err != nil {
						t.Fatal(err)
					}
					segs = append(segs, s)
					next[cam] = end
					if rng.IntN(4) > 0 {
						if err := db.SegmentSealed(ctx, segment.Record{CameraID: cam, Path: s.path, Start: st, End: end, Sealed: true}); err != nil {
							t.Fatal(err)
						}
						s.sealed = true
					}
					what = "record " + s.path
				case op < 9: // an open segment sealed late, possibly empty (repair)
					s := pick(false)
					if s == nil {
						continue
					}
					s.end = s.start.Add(time.Duration(rng.IntN(3)) * time.Second)
					if err := db.SegmentSealed(ctx, segment.Record{CameraID: s.cam, Path: s.path, Start: s.start, End: s.end, Sealed: true}); err != nil {
						t.Fatal(err)
					}
					s.sealed = true
					what = "repair " + s.path
				case op < 11: // a sealed segment sealed again, shorter or longer (over its successor)
					s := pick(true)
					if s == nil {
						continue
					}
					s.end = s.start.Add(time.Duration(rng.IntN(int(3*s.end.Sub(s.start)/time.Millisecond)+1)) * time.Millisecond)
					if err := db.SegmentSealed(ctx, segment.Record{CameraID: s.cam, Path: s.path, Start: s.start, End: s.end, Sealed: true}); err != nil {
						t.Fatal(err)
					}
					what = "reseal " + s.path
				case op < 12: // an entry whose start was lost, sealed anywhere in the past
					n++
					st := at(float64(rng.IntN(3000)))
					s := &seg{cam: cam, path: fmt.Sprintf("%s/%d.mp4", cam, n), start: st, end: st.Add(time.Duration(rng.IntN(40)) * time.Second), sealed: true}
					if err := db.SegmentSealed(ctx, segment.Record{CameraID: cam, Path: s.path, Start: s.start, End: s.end, Sealed: true}); err != nil {
						t.Fatal(err)
					}
					segs = append(segs, s)
					what = "seal unstarted " + s.path
				case op < 15: // one entry deleted, sealed or not
					if len(segs) == 0 {
						continue
					}
					s := segs[rng.IntN(len(segs))]
					if err := db.DeleteSegment(ctx, s.path); err != nil {
						t.Fatal(err)
					}
					drop(s)
					what = "delete " + s.path
				case op < 17: // retention: a camera's oldest, in one batch, with a path already gone
					var batch []*seg
					for _, s := range segs {
						if s.cam == cam && s.sealed && len(batch) < 1+rng.IntN(6) {
							batch = append(batch, s)
						}
					}
					paths := []string{cam + "/gone.mp4"}
					for _, s := range batch {
						paths = append(paths, s.path)
					}
					if err := db.DeleteSegments(ctx, paths); err != nil {
						t.Fatal(err)
					}
					drop(batch...)
					what = fmt.Sprintf("retention of %d", len(batch))
				default: // any entries of both cameras, in one batch
					var batch []*seg
					var paths []string
					for _, s := range segs {
						if rng.IntN(4) == 0 {
							batch = append(batch, s)
							paths = append(paths, s.path)
						}
					}
					if len(paths) == 0 {
						continue
					}
					if err := db.DeleteSegments(ctx, paths); err != nil {
						t.Fatal(err)
					}
					drop(batch...)
					what = fmt.Sprintf("delete %d anywhere", len(batch))
				}
				want := mergedSegments(t, db)
				// The model agrees with the index, so the index is what the test thinks it is.
				model := map[string][]timespan.Range{}
				for _, s := range segs {
					if s.sealed {
						model[s.cam] = append(model[s.cam], timespan.Range{Start: s.start, End: s.end})
					}
				}
				for cam, rs := range model {
					if model[cam] = timespan.Merge(rs, store.RecordingMergeGap); len(model[cam]) == 0 {
						delete(model, cam)
					}
				}
				if !sameSpans(model, want) {
					t.Fatalf("seed %d step %d (%s): the index merges to %v; the test's model to %v", seed, step, what, want, model)
				}
				if got := spansOf(t, db); !sameSpans(got, want) {
					t.Fatalf("seed %d step %d (%s): recording_spans = %v; want %v", seed, step, what, got, want)
				}
			}
		}
	})
}

// TestRecordingSpansConcurrent: cameras sealing in parallel while retention deletes their
// oldest segments leave recording_spans equal to the merge of what is left (on PostgreSQL the
// per-camera locks decide this; SQLite has one writer).
func TestRecordingSpansConcurrent(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const cams, segs = 4, 40
		var wg sync.WaitGroup
		errs := make(chan error, 2*cams)
		for c := range cams {
			cam := fmt.Sprintf("cam%d", c)
			wg.Go(func() {
				st := at(0)
				for i := range segs {
					path := fmt.Sprintf("%s/%d.mp4", cam, i)
					if err := db.SegmentStarted(ctx, cam, path, st); err != nil {
						errs <- err
						return
					}
					end := st.Add(10 * time.Second)
					if err := db.SegmentSealed(ctx, segment.Record{CameraID: cam, Path: path, Start: st, End: end, Sealed: true}); err != nil {
						errs <- err
						return
					}
					// a reconnect now and then, so that there are spans to split and join
					st = end.Add(time.Duration(i%7/6) * 2 * time.Second)
				}
			})
			wg.Go(func() {
				// retention, behind the recorder: every third segment's batch of the two before it,
				// across two cameras, so that batches lock more than one.
				other := fmt.Sprintf("cam%d", (c+1)%cams)
				for i := 2; i < segs; i += 3 {
					paths := []string{fmt.Sprintf("%s/%d.mp4", cam, i-2), fmt.Sprintf("%s/%d.mp4", other, i-1), fmt.Sprintf("%s/%d.mp4", cam, i)}
					if err := db.DeleteSegments(ctx, paths); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("concurrent seal and delete: %v", err)
		}
		if got, want := spansOf(t, db), mergedSegments(t, db); !sameSpans(got, want) {
			t.Errorf("recording_spans after concurrent seals and deletions = %v; want %v", got, want)
		}
	})
}

// TestSpansMigration: a database at migration 0007 with recordings — joined, overlapping,
// unsealed, empty, on several cameras — and recording_spans wrong (as a trigger bug might have
// left them) comes out of 0008 with the spans right and without the triggers, and the store
// keeps them right afterwards.
func TestSpansMigration(t *testing.T) {
	storetest.ForEachConfig(t, func(t *testing.T, cfg store.Config) {
		ctx := context.Background()
		old, err := store.OpenUntil(ctx, cfg, "0007_trace_entry")
		if err != nil {
			t.Fatalf("OpenUntil(0007) = %v", err)
		}
		type row struct {
			cam        string
			start, end float64
			sealed     bool
		}
		rows := []row{
			{"cam1", 0, 60, true}, {"cam1", 60, 120, true}, {"cam1", 121.4999, 180, true}, // one span
			{"cam1", 181.5, 240, true},                         // exactly the gap after: a new span
			{"cam1", 200, 230, true}, {"cam1", 230, 300, true}, // overlapping the one before, extending it
			{"cam1", 301, 302, false},                     // still recording
			{"cam1", 400, 400, true},                      // sealed empty
			{"cam2", 10, 20, true}, {"cam2", 5, 50, true}, // overlapping, the later row reaching further
			{"cam3", 0, 0, false},
		}
		for i, r := range rows {
			if _, err := old.SQL().ExecContext(ctx, `INSERT INTO recordings (camera_id, path, start_at, end_at, bytes, sha256, sealed, created_at)
				VALUES ($1, $2, $3, $4, 1, '', $5, 0)`, r.cam, fmt.Sprintf("%s/%d.mp4", r.cam, i), store.Micros(at(r.start)), store.Micros(at(r.end)), r.sealed); err != nil {
				t.Fatalf("insert recording %d: %v", i, err)
			}
		}
		if _, err := old.SQL().ExecContext(ctx, `UPDATE recording_spans SET end_at = end_at + 1`); err != nil {
			t.Fatal(err)
		}
		if _, err := old.SQL().ExecContext(ctx, `INSERT INTO recording_spans (camera_id, start_at, end_at) VALUES ('ghost', 1, 2)`); err != nil {
			t.Fatal(err)
		}
		old.Close()

		db, err := store.Open(ctx, cfg)
		if err != nil {
			t.Fatalf("Open (migrating to 0008) = %v", err)
		}
		defer db.Close()
		tr := func(a, b float64) timespan.Range { return timespan.Range{Start: at(a), End: at(b)} }
		want := map[string][]timespan.Range{
			"cam1": {tr(0, 180), tr(181.5, 300)},
			"cam2": {tr(5, 50)},
		}
		if got := spansOf(t, db); !sameSpans(got, want) {
			t.Errorf("recording_spans after 0008 = %v; want %v", got, want)
		}
		if got := mergedSegments(t, db); !sameSpans(got, want) {
			t.Errorf("merged segments = %v; want %v (the test's own expectation)", got, want)
		}
		// No trigger is left: a row written behind the store's back changes no span.
		if _, err := db.SQL().ExecContext(ctx, `INSERT INTO recordings (camera_id, path, start_at, end_at, bytes, sha256, sealed, created_at)
			VALUES ('cam4', 'cam4/raw.mp4', $1, $2, 1, '', TRUE, 0)`, store.Micros(at(0)), store.Micros(at(10))); err != nil {
			t.Fatal(err)
		}
		if got := spansOf(t, db); !sameSpans(got, want) {
			t.Errorf("recording_spans after a raw insert = %v; want %v (no trigger)", got, want)
		}
		if _, err := db.SQL().ExecContext(ctx, `DELETE FROM recordings WHERE path = 'cam4/raw.mp4'`); err != nil {
			t.Fatal(err)
		}
		// The store carries on from the rebuilt table.
		seal(t, db, "cam1", "cam1/next.mp4", at(180), at(181.5))
		if err := db.DeleteSegments(ctx, []string{"cam2/8.mp4"}); err != nil {
			t.Fatal(err)
		}
		want = map[string][]timespan.Range{"cam1": {tr(0, 300)}, "cam2": {tr(5, 50)}}
		if got := spansOf(t, db); !sameSpans(got, want) {
			t.Errorf("recording_spans after a seal and a delete = %v; want %v", got, want)
		}
	})
}

// BenchmarkSegmentSealed is the recorder's write path: a segment started, then sealed, its
// camera's span extended in the same transaction. (Before migration 0008 the sub-benchmarks were
// spans=true, with 0004's triggers, and spans=false, with them dropped.)
func BenchmarkSegmentSealed(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			db := benchDB(b, dialect)
			ctx := context.Background()
			st := at(0)
			i := 0
			for b.Loop() {
				i++
				path := fmt.Sprintf("cam/%d.mp4", i)
				if err := db.SegmentStarted(ctx, "cam", path, st); err != nil {
					b.Fatal(err)
				}
				end := st.Add(time.Minute)
				if err := db.SegmentSealed(ctx, segment.Record{CameraID: "cam", Path: path, Start: st, End: end, Sealed: true}); err != nil {
					b.Fatal(err)
				}
				st = end
			}
		})
	}
}

// BenchmarkDeleteSegments is retention's batch delete: the 500 oldest segments of a camera, one
// span, in one call; per op, one batch.
func BenchmarkDeleteSegments(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			db := benchDB(b, dialect)
			ctx := context.Background()
			i := 0
			for b.Loop() {
				b.StopTimer()
				var paths []string
				tx, err := db.SQL().BeginTx(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				first := at(float64((i + 1) * 60))
				for range 500 {
					i++
					st := at(float64(i * 60))
					path := fmt.Sprintf("cam/%d.mp4", i)
					if _, err := tx.ExecContext(ctx, `INSERT INTO recordings (camera_id, path, start_at, end_at, bytes, sha256, sealed, created_at)
						VALUES ('cam', $1, $2, $3, 1, '', TRUE, 0)`, path, store.Micros(st), store.Micros(st.Add(time.Minute))); err != nil {
						b.Fatal(err)
					}
					paths = append(paths, path)
				}
				// The span the store would have built sealing them one by one.
				if _, err := tx.ExecContext(ctx, `INSERT INTO recording_spans (camera_id, start_at, end_at) VALUES ('cam', $1, $2)`,
					store.Micros(first), store.Micros(at(float64(i*60)).Add(time.Minute))); err != nil {
					b.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := db.DeleteSegments(ctx, paths); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if got := spansOf(b, db); len(got) != 0 {
				b.Fatalf("recording_spans after deleting everything = %v; want none", got)
			}
		})
	}
}
