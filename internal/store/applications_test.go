package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/lostperson"
	"civicam/internal/segment"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
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
		want := map[string][]lostperson.Range{
			"cam1": {{Start: at(0), End: at(120)}, {Start: at(300), End: at(330)}},
			"cam2": {{Start: at(0), End: at(30)}},
		}
		if len(got) != len(want) {
			t.Fatalf("RecordedRanges = %v; want %v", got, want)
		}
		for cam, w := range want {
			if !slices.EqualFunc(got[cam], w, func(a, b lostperson.Range) bool { return a.Start.Equal(b.Start) && a.End.Equal(b.End) }) {
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

func TestApplicationStore(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := &auth.User{ID: "11111111-1111-4111-8111-111111111111", Username: "citizen", PasswordHash: "x", Role: auth.RoleApplicant, CreatedAt: t0, UpdatedAt: t0}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		a := &lostperson.Application{ID: "22222222-2222-4222-8222-222222222222", ApplicantID: u.ID, Status: lostperson.StatusSubmitted,
			Relationship: "guardian", SubjectCategory: "child", Urgent: true, LastSeenAt: at(-3600), Lat: 27.8, Lon: 113.1,
			Description: "d", PolicyVersion: "v1", SubmittedAt: t0, TriageDue: at(7200), UpdatedAt: t0}
		if err := db.CreateApplication(ctx, a); err != nil {
			t.Fatal(err)
		}
		got, err := db.Application(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.LastSeenAt != a.LastSeenAt || got.TriageDue != a.TriageDue || !got.ReviewDue.IsZero() || got.Lat != 27.8 || !got.Urgent {
			t.Errorf("Application = %+v; want %+v", got, a)
		}
		if _, err := db.Application(ctx, "33333333-3333-4333-8333-333333333333"); !errors.Is(err, store.ErrNotFound) || !errors.Is(err, lostperson.ErrNotFound) {
			t.Errorf("Application(missing) = %v; want both packages' ErrNotFound", err)
		}
		a.Status, a.DecidedAt = lostperson.StatusAccepted, at(60)
		msg := &lostperson.Message{ID: "44444444-4444-4444-8444-444444444444", Kind: "result", Contact: lostperson.Contact{Kind: "email", Address: "a@b.cn"},
			Subject: "s", Body: "b", Status: lostperson.MessagePending, NextAt: t0, CreatedAt: t0}
		if err := db.UpdateApplication(ctx, a, lostperson.StatusSubmitted, msg); err != nil {
			t.Fatal(err)
		}
		if err := db.UpdateApplication(ctx, a, lostperson.StatusSubmitted, nil); !errors.Is(err, lostperson.ErrState) {
			t.Errorf("UpdateApplication(stale status) = %v; want ErrState", err)
		}
		if m, err := db.Message(ctx, msg.ID); err != nil || m.Body != "b" {
			t.Errorf("Message = %+v, %v; want the message enqueued with the update", m, err)
		}
		// A failed update enqueues nothing.
		msg2 := *msg
		msg2.ID = "55555555-5555-4555-8555-555555555555"
		db.UpdateApplication(ctx, a, lostperson.StatusSubmitted, &msg2)
		if _, err := db.Message(ctx, msg2.ID); !errors.Is(err, lostperson.ErrNotFound) {
			t.Errorf("Message after a refused update = %v; want not found", err)
		}
		// Two claimers of one due message: one wins.
		ok1, err1 := db.ClaimMessage(ctx, msg.ID, t0, at(60))
		ok2, err2 := db.ClaimMessage(ctx, msg.ID, t0, at(60))
		if err1 != nil || err2 != nil || !ok1 || ok2 {
			t.Errorf("ClaimMessage twice = %v %v, %v %v; want exactly one win", ok1, err1, ok2, err2)
		}
		as, err := db.Applications(ctx, lostperson.Filter{Statuses: []lostperson.Status{lostperson.StatusAccepted}})
		if err != nil || len(as) != 1 {
			t.Errorf("Applications(accepted) = %d, %v; want 1", len(as), err)
		}
		if err := db.PutGrants(ctx, []lostperson.FootageGrant{{ApplicationID: a.ID, ReviewerID: "r", CameraID: "c", From: at(0), To: at(60), CreatedAt: t0}}); err != nil {
			t.Fatal(err)
		}
		if err := db.PutGrants(ctx, []lostperson.FootageGrant{{ApplicationID: a.ID, ReviewerID: "r", CameraID: "c", From: at(0), To: at(120), CreatedAt: at(1)}}); err != nil {
			t.Fatal(err)
		}
		if g, err := db.Grant(ctx, a.ID, "r", "c"); err != nil || !g.To.Equal(at(120)) {
			t.Errorf("Grant = %+v, %v; want the later window", g, err)
		}
	})
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
					want := make([]lostperson.Range, len(cov.Ranges))
					for i, r := range cov.Ranges {
						want[i] = lostperson.Range{Start: r.Start, End: r.End}
					}
					if !slices.EqualFunc(got[cam], want, func(a, b lostperson.Range) bool { return a.Start.Equal(b.Start) && a.End.Equal(b.End) }) {
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

// dropSpanTriggers leaves a database without migration 0004's recording_spans triggers, for the
// side-by-side benchmarks.
func dropSpanTriggers(b *testing.B, db *store.DB) {
	drop := []string{`DROP TRIGGER recording_spans_insert`, `DROP TRIGGER recording_spans_update`, `DROP TRIGGER recording_spans_delete`}
	if db.Dialect() == store.Postgres {
		drop = []string{`DROP TRIGGER recording_spans_apply ON recordings`}
	}
	for _, q := range drop {
		if _, err := db.SQL().ExecContext(context.Background(), q); err != nil {
			b.Fatal(err)
		}
	}
}

func spansBenchDB(b *testing.B, dialect string, spans bool) *store.DB {
	var db *store.DB
	if dialect == "sqlite" {
		db = storetest.SQLite(b)
	} else {
		db = storetest.Postgres(b)
	}
	if !spans {
		dropSpanTriggers(b, db)
	}
	return db
}

// BenchmarkSegmentSealed is the recorder's write path (a segment started, then sealed) with the
// recording_spans triggers of migration 0004, beside the same database with them dropped: what
// the candidate search's spans cost every segment.
func BenchmarkSegmentSealed(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		for _, spans := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/spans=%v", dialect, spans), func(b *testing.B) {
				db := spansBenchDB(b, dialect, spans)
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
}

// BenchmarkDeleteSegments is retention's batch delete (the 500 oldest segments of a camera in
// one statement) with and without the recording_spans triggers; per op, one batch.
func BenchmarkDeleteSegments(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		for _, spans := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/spans=%v", dialect, spans), func(b *testing.B) {
				db := spansBenchDB(b, dialect, spans)
				ctx := context.Background()
				i := 0
				for b.Loop() {
					b.StopTimer()
					var paths []string
					tx, err := db.SQL().BeginTx(ctx, nil)
					if err != nil {
						b.Fatal(err)
					}
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
					if err := tx.Commit(); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					if err := db.DeleteSegments(ctx, paths); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
