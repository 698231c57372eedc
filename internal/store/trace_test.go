package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"

	"civicam/internal/clocktest"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

var traceT0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC) // a Tuesday

// runLog starts a trace log on db and stops it when the test ends.
func runLog(t testing.TB, db *store.DB, cfg trace.Config, key *trace.Key) *trace.Log {
	t.Helper()
	clock := clocktest.Ticking(traceT0, time.Microsecond)
	l := trace.New(cfg, trace.Deps{Store: db, Key: key, Now: clock.Now})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Log.Run() = %v", err)
		}
	})
	return l
}

func newKey(t testing.TB) *trace.Key {
	t.Helper()
	k, err := trace.LoadOrCreateKey(filepath.Join(t.TempDir(), "trace.key"), "civicam.test/trace")
	if err != nil {
		t.Fatalf("LoadOrCreateKey() = %v", err)
	}
	return k
}

// sampleEntry varies every field with i so that an edit of any column changes some entry.
func sampleEntry(i int) trace.Entry {
	e := trace.Entry{
		Time: traceT0.Add(time.Duration(i) * time.Minute),
		Actor: trace.Actor{
			UserID: fmt.Sprintf("user-%d", i%3), Username: fmt.Sprintf("name%d", i%3), Role: "operator",
			OrganisationID: "org-1", ClientAddr: "127.0.0.1:5000",
		},
		Action:    trace.ActionPlayback,
		CameraIDs: []string{fmt.Sprintf("cam-%d", i%4)},
		From:      traceT0.Add(-time.Hour), To: traceT0.Add(-time.Hour + time.Duration(i+1)*time.Second),
		Reference: fmt.Sprintf("APP-%d", i), Purpose: "lost child search", Outcome: trace.Allowed,
		Reason: "grant g-1", Detail: map[string]string{"rule": "REG-5", "n": fmt.Sprint(i)},
	}
	if i%5 == 4 {
		e.Action, e.Outcome, e.Reason = trace.ActionAccessDenied, trace.Denied, "not shared"
		e.CameraIDs = append(e.CameraIDs, "cam-extra")
	}
	return e
}

func appendN(t testing.TB, l *trace.Log, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		seq, err := l.Append(context.Background(), sampleEntry(i))
		if err != nil {
			t.Fatalf("Append(%d) = %v", i, err)
		}
		if seq != int64(i) {
			t.Fatalf("Append(%d) = seq %d; want %d", i, seq, i)
		}
	}
}

func verify(t testing.TB, db *store.DB, key *trace.Key, external []byte) trace.Report {
	t.Helper()
	rep, err := trace.Verify(context.Background(), db, key.VerifierKey(), external)
	if err != nil {
		t.Fatalf("Verify() error = %v", err)
	}
	return rep
}

func TestTraceAppendVerifyQuery(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		key := newKey(t)
		l := runLog(t, db, trace.Config{CheckpointEvery: 7}, key)
		appendN(t, l, 0, 30)

		rep := verify(t, db, key, nil)
		if !rep.Intact || rep.Entries != 30 || rep.FirstBad != -1 {
			t.Fatalf("Verify() = %+v; want intact with 30 entries", rep)
		}
		if rep.Checkpoints < 4 {
			t.Errorf("Verify() checked %d stored checkpoints; want >= 4 (one every 7 entries)", rep.Checkpoints)
		}

		got, _, err := l.Query(ctx, trace.Filter{OldestFirst: true, Limit: 1000})
		if err != nil {
			t.Fatalf("Query() = %v", err)
		}
		if len(got) != 30 {
			t.Fatalf("Query() returned %d entries; want 30", len(got))
		}
		for i, e := range got {
			want := sampleEntry(i)
			want.Seq = int64(i)
			if fmt.Sprint(e) != fmt.Sprint(want) {
				t.Fatalf("entry %d = %+v; want %+v", i, e, want)
			}
		}
	})
}

func TestTraceQueryFilters(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := runLog(t, db, trace.Config{}, newKey(t))
		appendN(t, l, 0, 20)
		seqs := func(es []trace.Entry) []int64 {
			out := []int64{}
			for _, e := range es {
				out = append(out, e.Seq)
			}
			return out
		}
		cursor := int64(10)
		tests := []struct {
			name string
			f    trace.Filter
			want []int64
		}{
			{"actor by user id", trace.Filter{Actor: "user-1", OldestFirst: true}, []int64{1, 4, 7, 10, 13, 16, 19}},
			{"actor by username, newest first", trace.Filter{Actor: "name2"}, []int64{17, 14, 11, 8, 5, 2}},
			{"camera", trace.Filter{CameraID: "cam-3", OldestFirst: true}, []int64{3, 7, 11, 15, 19}},
			{"camera in a list", trace.Filter{CameraID: "cam-extra", OldestFirst: true}, []int64{4, 9, 14, 19}},
			{"action", trace.Filter{Action: trace.ActionAccessDenied}, []int64{19, 14, 9, 4}},
			{"outcome", trace.Filter{Outcome: trace.Denied, OldestFirst: true}, []int64{4, 9, 14, 19}},
			{"since until", trace.Filter{Since: traceT0.Add(5 * time.Minute), Until: traceT0.Add(8 * time.Minute), OldestFirst: true}, []int64{5, 6, 7}},
			{"combined", trace.Filter{Actor: "user-1", CameraID: "cam-3", OldestFirst: true}, []int64{7, 19}},
			{"limit", trace.Filter{Limit: 3}, []int64{19, 18, 17}},
			{"cursor newest first", trace.Filter{Limit: 3, Cursor: &cursor}, []int64{9, 8, 7}},
			{"cursor oldest first", trace.Filter{Limit: 3, Cursor: &cursor, OldestFirst: true}, []int64{11, 12, 13}},
			{"nothing", trace.Filter{Actor: "nobody"}, []int64{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, _, err := l.Query(ctx, tt.f)
				if err != nil {
					t.Fatalf("Query(%+v) = %v", tt.f, err)
				}
				if !slices.Equal(seqs(got), tt.want) {
					t.Errorf("Query(%+v) = %v; want %v", tt.f, seqs(got), tt.want)
				}
			})
		}
		// Paging with the returned cursor visits every entry once.
		var all []int64
		f := trace.Filter{Limit: 6}
		for {
			page, next, err := l.Query(ctx, f)
			if err != nil {
				t.Fatalf("Query(%+v) = %v", f, err)
			}
			all = append(all, seqs(page)...)
			if next == nil {
				break
			}
			f.Cursor = next
		}
		if len(all) != 20 || all[0] != 19 || all[19] != 0 {
			t.Errorf("paging visited %v; want 19..0", all)
		}
	})
}

// tamperer changes the stored trail behind the application's back: the append-only triggers are
// dropped (SQLite) or disabled (PostgreSQL, as the superuser the tests connect as).
type tamperer struct {
	t  *testing.T
	db *store.DB
}

func newTamperer(t *testing.T, db *store.DB) *tamperer {
	tp := &tamperer{t: t, db: db}
	if db.Dialect() == store.Postgres {
		for _, tbl := range []string{"trace_entries", "trace_cameras", "trace_checkpoints", "trace_head"} {
			tp.exec("ALTER TABLE " + tbl + " DISABLE TRIGGER USER")
		}
	} else {
		for _, tr := range []string{"trace_entries_no_update", "trace_entries_no_delete", "trace_cameras_no_update",
			"trace_cameras_no_delete", "trace_checkpoints_no_update", "trace_checkpoints_no_delete",
			"trace_head_no_delete", "trace_head_no_shrink"} {
			tp.exec("DROP TRIGGER " + tr)
		}
	}
	return tp
}

func (tp *tamperer) exec(q string, args ...any) {
	tp.t.Helper()
	if _, err := tp.db.SQL().Exec(q, args...); err != nil {
		tp.t.Fatalf("tamper %q: %v", q, err)
	}
}

// editEntry rewrites entry seq's stored encoding, replacing what pattern matches with repl
// (regexp.ReplaceAllString); it fails the test when nothing matches, so that no case tampers
// with nothing.
func (tp *tamperer) editEntry(seq int64, pattern, repl string) {
	tp.t.Helper()
	var data string
	if err := tp.db.SQL().QueryRow(`SELECT entry FROM trace_entries WHERE seq = $1`, seq).Scan(&data); err != nil {
		tp.t.Fatalf("read entry %d: %v", seq, err)
	}
	re := regexp.MustCompile(pattern)
	if !re.MatchString(data) {
		tp.t.Fatalf("entry %d: %q matches nothing in %s", seq, pattern, data)
	}
	tp.exec(`UPDATE trace_entries SET entry = $1 WHERE seq = $2`, re.ReplaceAllString(data, repl), seq)
}

// rehash recomputes, as a forger without the key would, every leaf hash and running root from
// entry `from` on, and the head.
func (tp *tamperer) rehash(from int64) {
	tp.t.Helper()
	ctx := context.Background()
	var rows []trace.Row
	err := tp.db.ScanTrace(ctx, 0, math.MaxInt64, func(r *trace.Row) error {
		rows = append(rows, trace.Row{Seq: r.Seq, Data: bytes.Clone(r.Data), LeafHash: bytes.Clone(r.LeafHash), Chain: bytes.Clone(r.Chain)})
		return nil
	})
	if err != nil {
		tp.t.Fatalf("ScanTrace() = %v", err)
	}
	h := rfc6962.DefaultHasher
	rng := (&compact.RangeFactory{Hash: h.HashChildren}).NewEmptyRange(0)
	var chain []byte
	for i := range rows {
		r := &rows[i]
		leaf := r.LeafHash
		if r.Seq >= from {
			var err error
			if leaf, err = trace.LeafHash(r); err != nil {
				tp.t.Fatalf("LeafHash(%d) = %v", r.Seq, err)
			}
			r.Chain = trace.ChainHash(chain, leaf)
			tp.exec(`UPDATE trace_entries SET leaf_hash = $1, chain_hash = $2 WHERE seq = $3`, leaf, r.Chain, r.Seq)
		}
		chain = r.Chain
		rng.Append(leaf, nil)
	}
	root, _ := rng.GetRootHash(nil)
	tp.exec(`UPDATE trace_head SET size = $1, root = $2`, len(rows), root)
}

func TestTraceTamperDetected(t *testing.T) {
	const n = 20
	junk := bytes.Repeat([]byte{0xAB}, 32)
	tests := []struct {
		name      string
		tamper    func(tp *tamperer)
		firstBad  int64
		wantInMsg string
	}{
		{"edit seq", func(tp *tamperer) { tp.exec(`UPDATE trace_entries SET seq = 1000 WHERE seq = 7`) }, 7, "missing"},
		{"edit seq inside the entry", func(tp *tamperer) { tp.editEntry(7, `"seq":7,`, `"seq":8,`) }, 7, "leaf hash"},
		{"edit layout version", func(tp *tamperer) { tp.editEntry(7, `^\{"v":2,`, `{"v":1,`) }, 7, "decoded"},
		{"edit at", func(tp *tamperer) { tp.editEntry(7, `"at":(\d+)`, `"at":${1}1`) }, 7, "leaf hash"},
		{"edit user_id", func(tp *tamperer) { tp.editEntry(7, `"user_id":"user-1"`, `"user_id":"user-9"`) }, 7, "leaf hash"},
		{"edit username", func(tp *tamperer) { tp.editEntry(7, `"username":"name1"`, `"username":"x"`) }, 7, "leaf hash"},
		{"edit role", func(tp *tamperer) { tp.editEntry(7, `"role":"operator"`, `"role":"admin"`) }, 7, "leaf hash"},
		{"edit organisation_id", func(tp *tamperer) { tp.editEntry(7, `"organisation_id":"org-1"`, `"organisation_id":"org-2"`) }, 7, "leaf hash"},
		{"edit client_addr", func(tp *tamperer) { tp.editEntry(7, `"client_addr":"[^"]*"`, `"client_addr":"10.0.0.1"`) }, 7, "leaf hash"},
		{"edit action", func(tp *tamperer) { tp.editEntry(7, `"action":"playback"`, `"action":"search"`) }, 7, "leaf hash"},
		{"edit camera_ids", func(tp *tamperer) { tp.editEntry(7, `"camera_ids":\[[^\]]*\]`, `"camera_ids":[]`) }, 7, "leaf hash"},
		{"edit camera_ids whitespace", func(tp *tamperer) { tp.editEntry(7, `"camera_ids":\["cam-3"\]`, `"camera_ids":[ "cam-3"]`) }, 7, "leaf hash"},
		{"edit whitespace between fields", func(tp *tamperer) { tp.editEntry(7, `,"role":`, `, "role":`) }, 7, "leaf hash"},
		{"add a repeated key", func(tp *tamperer) { tp.editEntry(7, `\}\}$`, `},"user_id":"user-9"}`) }, 7, "leaf hash"},
		{"edit range_from", func(tp *tamperer) { tp.editEntry(7, `"range_from":\d+`, `"range_from":0`) }, 7, "leaf hash"},
		{"edit range_to", func(tp *tamperer) { tp.editEntry(7, `"range_to":(\d+)`, `"range_to":${1}9`) }, 7, "leaf hash"},
		{"edit reference", func(tp *tamperer) { tp.editEntry(7, `"reference":"APP-7"`, `"reference":"APP-1"`) }, 7, "leaf hash"},
		{"edit purpose", func(tp *tamperer) { tp.editEntry(7, `"purpose":"[^"]*"`, `"purpose":"curiosity"`) }, 7, "leaf hash"},
		{"edit outcome", func(tp *tamperer) { tp.editEntry(9, `"outcome":"denied"`, `"outcome":"allowed"`) }, 9, "leaf hash"},
		{"edit reason", func(tp *tamperer) { tp.editEntry(7, `"reason":"[^"]*"`, `"reason":""`) }, 7, "leaf hash"},
		{"edit detail", func(tp *tamperer) { tp.editEntry(7, `"detail":\{[^}]*\}`, `"detail":{}`) }, 7, "leaf hash"},
		{"edit leaf_hash", func(tp *tamperer) { tp.exec(`UPDATE trace_entries SET leaf_hash = $1 WHERE seq = 7`, junk) }, 7, "leaf hash"},
		{"edit chain_hash", func(tp *tamperer) { tp.exec(`UPDATE trace_entries SET chain_hash = $1 WHERE seq = 7`, junk) }, 7, "chain hash"},
		{"cut chain_hash short", func(tp *tamperer) { tp.exec(`UPDATE trace_entries SET chain_hash = $1 WHERE seq = 7`, junk[:31]) }, 7, "chain hash"},
		{"edit content and leaf hash", func(tp *tamperer) {
			tp.editEntry(7, `"purpose":"[^"]*"`, `"purpose":"curiosity"`)
			var data string
			if err := tp.db.SQL().QueryRow(`SELECT entry FROM trace_entries WHERE seq = 7`).Scan(&data); err != nil {
				tp.t.Fatal(err)
			}
			leaf, err := trace.LeafHash(&trace.Row{Seq: 7, Data: []byte(data)})
			if err != nil {
				tp.t.Fatal(err)
			}
			tp.exec(`UPDATE trace_entries SET leaf_hash = $1 WHERE seq = 7`, leaf)
		}, 7, "chain hash"},
		{"delete", func(tp *tamperer) { tp.exec(`DELETE FROM trace_entries WHERE seq = 7`) }, 7, "missing"},
		{"insert in the middle", func(tp *tamperer) {
			tp.exec(`UPDATE trace_entries SET seq = seq + 1000000 WHERE seq >= 7`)
			tp.exec(`UPDATE trace_entries SET seq = seq - 1000000 + 1 WHERE seq >= 1000000`)
			tp.exec(`INSERT INTO trace_entries (seq, entry, leaf_hash, chain_hash) SELECT 7, entry, leaf_hash, chain_hash
				FROM trace_entries WHERE seq = 3`)
		}, 7, "moved"},
		{"insert at the end", func(tp *tamperer) {
			tp.exec(`INSERT INTO trace_entries (seq, entry, leaf_hash, chain_hash) SELECT 20, entry, leaf_hash, chain_hash
				FROM trace_entries WHERE seq = 3`)
		}, 20, "moved"},
		{"insert at the end, hashes recomputed", func(tp *tamperer) {
			tp.exec(`INSERT INTO trace_entries (seq, entry, leaf_hash, chain_hash) SELECT 20, entry, leaf_hash, chain_hash
				FROM trace_entries WHERE seq = 3`)
			tp.editEntry(20, `"seq":3,`, `"seq":20,`)
			tp.exec(`INSERT INTO trace_cameras SELECT 20, camera_id FROM trace_cameras WHERE seq = 3`)
			tp.rehash(20)
			tp.exec(`UPDATE trace_head SET size = 20`) // leave the head as the real writer left it
		}, 20, "beyond the head"},
		{"reorder", func(tp *tamperer) {
			tp.exec(`UPDATE trace_entries SET seq = -1 WHERE seq = 5`)
			tp.exec(`UPDATE trace_entries SET seq = 5 WHERE seq = 9`)
			tp.exec(`UPDATE trace_entries SET seq = 9 WHERE seq = -1`)
		}, 5, "moved"},
		{"reorder, hashes recomputed", func(tp *tamperer) {
			// Entries 1 and 5 name the same camera, so the camera index stays consistent too.
			tp.exec(`UPDATE trace_entries SET seq = -1 WHERE seq = 1`)
			tp.exec(`UPDATE trace_entries SET seq = 1 WHERE seq = 5`)
			tp.exec(`UPDATE trace_entries SET seq = 5 WHERE seq = -1`)
			tp.editEntry(1, `"seq":5,`, `"seq":1,`)
			tp.editEntry(5, `"seq":1,`, `"seq":5,`)
			tp.rehash(0) // even with every hash recomputed, the signed checkpoints disagree
		}, 0, "rewritten"},
		{"truncate tail", func(tp *tamperer) { tp.exec(`DELETE FROM trace_entries WHERE seq >= 15`) }, 15, "removed"},
		{"truncate tail and head, keep checkpoints", func(tp *tamperer) {
			tp.exec(`DELETE FROM trace_entries WHERE seq >= 15`)
			tp.rehash(15)
		}, 15, "removed"},
		{"rewrite with hashes recomputed", func(tp *tamperer) {
			tp.editEntry(12, `"purpose":"[^"]*"`, `"purpose":"curiosity"`)
			tp.rehash(12)
		}, 10, "rewritten"},
		{"camera index row added", func(tp *tamperer) { tp.exec(`INSERT INTO trace_cameras (seq, camera_id) VALUES (6, 'cam-x')`) }, 6, "camera index"},
		{"camera index row renamed", func(tp *tamperer) { tp.exec(`UPDATE trace_cameras SET camera_id = 'cam-x' WHERE seq = 8`) }, 8, "camera index"},
		{"camera index row removed", func(tp *tamperer) { tp.exec(`DELETE FROM trace_cameras WHERE seq = 8`) }, 8, "camera index"},
		{"camera index row for no entry", func(tp *tamperer) { tp.exec(`INSERT INTO trace_cameras (seq, camera_id) VALUES (50, 'cam-x')`) }, 50, "camera index"},
		{"head root edited", func(tp *tamperer) { tp.exec(`UPDATE trace_head SET root = $1`, junk) }, -1, "head"},
		{"head size inflated", func(tp *tamperer) { tp.exec(`UPDATE trace_head SET size = $1`, int64(1)<<50) }, 20, "head records"},
		{"checkpoint forged", func(tp *tamperer) {
			tp.exec(`UPDATE trace_checkpoints SET note = $1 WHERE size = 10`, []byte("civicam.test/trace\n10\nAAAA\n\n— civicam.test/trace AAAA\n"))
		}, -1, "checkpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.ForEach(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				key := newKey(t)
				l := runLog(t, db, trace.Config{CheckpointEvery: 1 << 30}, key)
				appendN(t, l, 0, 10)
				if _, err := l.Checkpoint(ctx); err != nil {
					t.Fatalf("Checkpoint() = %v", err)
				}
				appendN(t, l, 10, n-10)
				if _, err := l.Checkpoint(ctx); err != nil {
					t.Fatalf("Checkpoint() = %v", err)
				}
				if rep := verify(t, db, key, nil); !rep.Intact {
					t.Fatalf("Verify() before tampering = %+v; want intact", rep)
				}
				tt.tamper(newTamperer(t, db))
				rep := verify(t, db, key, nil)
				if rep.Intact || rep.FirstBad != tt.firstBad || !strings.Contains(rep.Problem, tt.wantInMsg) {
					t.Errorf("Verify() after %s = intact %v, first bad %d, %q; want first bad %d, a problem mentioning %q",
						tt.name, rep.Intact, rep.FirstBad, rep.Problem, tt.firstBad, tt.wantInMsg)
				}
			})
		})
	}
}

// Entries after the newest stored checkpoint are vouched for only by the database; a forger who
// also removes the stored checkpoints they would contradict is caught by a checkpoint that left
// the server earlier (e.g. fetched from the public endpoint).
func TestTraceExternalCheckpoint(t *testing.T) {
	tests := []struct {
		name     string
		tamper   func(tp *tamperer)
		firstBad int64
		badUntil int64
	}{
		{"truncate the tail", func(tp *tamperer) {
			tp.exec(`DELETE FROM trace_entries WHERE seq >= 15`)
			tp.exec(`DELETE FROM trace_cameras WHERE seq >= 15`)
			tp.exec(`DELETE FROM trace_checkpoints WHERE size > 15`)
			tp.rehash(15)
		}, 15, 20},
		{"rewrite the newest entries", func(tp *tamperer) {
			tp.editEntry(17, `"reason":"[^"]*"`, `"reason":"nothing to see"`)
			tp.exec(`DELETE FROM trace_checkpoints WHERE size > 10`)
			tp.rehash(17)
		}, 10, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.ForEach(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				key := newKey(t)
				l := runLog(t, db, trace.Config{CheckpointEvery: 1 << 30}, key)
				appendN(t, l, 0, 10)
				if _, err := l.Checkpoint(ctx); err != nil {
					t.Fatalf("Checkpoint() = %v", err)
				}
				appendN(t, l, 10, 10)
				if _, err := l.Checkpoint(ctx); err != nil {
					t.Fatalf("Checkpoint() = %v", err)
				}
				saved, err := l.Latest(ctx) // what an auditor fetched from the public endpoint
				if err != nil {
					t.Fatalf("Latest() = %v", err)
				}
				if cp, err := trace.OpenCheckpoint(saved, key.VerifierKey()); err != nil || cp.Size != 20 {
					t.Fatalf("OpenCheckpoint(Latest()) = size %d, %v; want 20", cp.Size, err)
				}
				if rep := verify(t, db, key, saved); !rep.Intact {
					t.Fatalf("Verify(external) before tampering = %+v; want intact", rep)
				}
				tt.tamper(newTamperer(t, db))
				// Without the saved checkpoint the forgery is consistent: this is the limit the
				// external checkpoint exists for.
				if rep := verify(t, db, key, nil); !rep.Intact {
					t.Logf("Verify() without the external checkpoint caught it anyway: %s", rep.Problem)
				}
				rep := verify(t, db, key, saved)
				if rep.Intact || rep.FirstBad != tt.firstBad || rep.BadUntil != tt.badUntil {
					t.Errorf("Verify(external) = intact %v, bad [%d, %d), %q; want bad [%d, %d)",
						rep.Intact, rep.FirstBad, rep.BadUntil, rep.Problem, tt.firstBad, tt.badUntil)
				}
			})
		})
	}
}

func TestTraceVerifyRejectsForeignCheckpoint(t *testing.T) {
	db := storetest.SQLite(t)
	key := newKey(t)
	l := runLog(t, db, trace.Config{}, key)
	appendN(t, l, 0, 3)
	other := newKey(t)
	foreign, err := trace.SignCheckpoint(other, 3, bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trace.Verify(context.Background(), db, key.VerifierKey(), foreign); err == nil {
		t.Errorf("Verify(checkpoint signed by another key) = nil error; want an error")
	}
}

func TestTraceGroupCommitConcurrent(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		key := newKey(t)
		l := runLog(t, db, trace.Config{}, key)
		const writers, each = 32, 25
		var mu sync.Mutex
		acked := map[int64]string{}
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					e := sampleEntry(i)
					e.Reference = fmt.Sprintf("w%d-%d", w, i)
					seq, err := l.Append(context.Background(), e)
					if err != nil {
						t.Errorf("Append() = %v", err)
						return
					}
					mu.Lock()
					if prev, dup := acked[seq]; dup {
						t.Errorf("seq %d acknowledged twice (%s and %s)", seq, prev, e.Reference)
					}
					acked[seq] = e.Reference
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(acked) != writers*each {
			t.Fatalf("%d appends acknowledged; want %d", len(acked), writers*each)
		}
		var stored int64
		err := db.ScanTrace(context.Background(), 0, math.MaxInt64, func(r *trace.Row) error {
			if r.Seq != stored {
				return fmt.Errorf("stored seq %d; want %d (contiguous)", r.Seq, stored)
			}
			e, err := r.Entry()
			if err != nil {
				return err
			}
			if acked[r.Seq] != e.Reference {
				return fmt.Errorf("entry %d holds %q; the append acknowledged with it was %q", r.Seq, e.Reference, acked[r.Seq])
			}
			stored++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if stored != writers*each {
			t.Errorf("%d entries stored; want %d", stored, writers*each)
		}
		if rep := verify(t, db, key, nil); !rep.Intact {
			t.Errorf("Verify() = %+v; want intact", rep)
		}
	})
}

// Two nodes (two logs, two connection pools) append to one database: sequence numbers stay
// contiguous and each node's tree follows the other's entries.
func TestTraceTwoNodes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db1 *store.DB) {
		var db2 *store.DB
		if db1.Dialect() == store.Postgres {
			db2 = reopenPostgres(t, db1)
		} else {
			db2 = db1
		}
		key := newKey(t)
		logs := []*trace.Log{runLog(t, db1, trace.Config{MemoryLevel: 2}, key), runLog(t, db2, trace.Config{MemoryLevel: 2}, key)}
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 20 {
					if _, err := logs[w%2].Append(context.Background(), sampleEntry(i)); err != nil {
						t.Errorf("Append() = %v", err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if rep := verify(t, db1, key, nil); !rep.Intact || rep.Entries != 160 {
			t.Fatalf("Verify() = %+v; want 160 intact entries", rep)
		}
		for i, l := range logs {
			p, err := l.InclusionProof(context.Background(), 3, 160)
			if err != nil {
				t.Fatalf("node %d: InclusionProof(3, 160) = %v", i, err)
			}
			if err := p.Verify(); err != nil {
				t.Errorf("node %d: proof.Verify() = %v", i, err)
			}
			if rep := verify(t, db1, key, nil); !bytes.Equal(p.Root, rep.Root) {
				t.Errorf("node %d: proof root %x; want the trail's %x", i, p.Root, rep.Root)
			}
		}
	})
}

// reopenPostgres opens a second pool on the same schema as db, as a second node would.
func reopenPostgres(t *testing.T, db *store.DB) *store.DB {
	t.Helper()
	var schema string
	if err := db.SQL().QueryRow(`SELECT current_schema()`).Scan(&schema); err != nil {
		t.Fatal(err)
	}
	dsn := storetest.PostgresDSN(t)
	dsn = dsn[:strings.LastIndex(dsn, "search_path=")] + "search_path=" + schema
	db2, err := store.Open(context.Background(), store.Config{PostgresDSN: dsn})
	if err != nil {
		t.Fatalf("store.Open(second node) = %v", err)
	}
	t.Cleanup(func() { db2.Close() })
	return db2
}

func TestTraceFailClosed(t *testing.T) {
	t.Run("insert refused", func(t *testing.T) {
		storetest.ForEach(t, func(t *testing.T, db *store.DB) {
			ctx := context.Background()
			key := newKey(t)
			l := runLog(t, db, trace.Config{}, key)
			appendN(t, l, 0, 3)
			var refuse, allow string
			if db.Dialect() == store.Postgres {
				refuse = `CREATE TRIGGER trace_refuse_insert BEFORE INSERT ON trace_entries FOR EACH ROW EXECUTE FUNCTION trace_refuse_change()`
				allow = `DROP TRIGGER trace_refuse_insert ON trace_entries`
			} else {
				refuse = `CREATE TRIGGER trace_refuse_insert BEFORE INSERT ON trace_entries BEGIN SELECT RAISE(ABORT, 'disk full'); END`
				allow = `DROP TRIGGER trace_refuse_insert`
			}
			if _, err := db.SQL().Exec(refuse); err != nil {
				t.Fatal(err)
			}
			if seq, err := l.Append(ctx, sampleEntry(3)); err == nil {
				t.Fatalf("Append() with inserts refused = seq %d, nil error; want an error", seq)
			}
			if _, err := db.SQL().Exec(allow); err != nil {
				t.Fatal(err)
			}
			// The log recovers, and the refused entry left no trace of a half write.
			appendN(t, l, 3, 2)
			if rep := verify(t, db, key, nil); !rep.Intact || rep.Entries != 5 {
				t.Errorf("Verify() = %+v; want 5 intact entries", rep)
			}
		})
	})
	t.Run("database closed", func(t *testing.T) {
		storetest.ForEach(t, func(t *testing.T, db *store.DB) {
			l := runLog(t, db, trace.Config{}, newKey(t))
			appendN(t, l, 0, 2)
			db.Close()
			if seq, err := l.Append(context.Background(), sampleEntry(2)); err == nil {
				t.Errorf("Append() on a closed database = seq %d, nil error; want an error", seq)
			}
		})
	})
	t.Run("log stopped", func(t *testing.T) {
		db := storetest.SQLite(t)
		l := trace.New(trace.Config{}, trace.Deps{Store: db, Key: newKey(t)})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- l.Run(ctx) }()
		if _, err := l.Append(context.Background(), sampleEntry(0)); err != nil {
			t.Fatalf("Append() = %v", err)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run() = %v", err)
		}
		if _, err := l.Append(context.Background(), sampleEntry(1)); !errors.Is(err, trace.ErrClosed) {
			t.Errorf("Append() after stop = %v; want ErrClosed", err)
		}
	})
	t.Run("bad entry", func(t *testing.T) {
		db := storetest.SQLite(t)
		l := runLog(t, db, trace.Config{}, newKey(t))
		e := sampleEntry(0)
		e.Outcome = "maybe"
		if _, err := l.Append(context.Background(), e); err == nil {
			t.Errorf("Append(outcome %q) = nil error; want an error", e.Outcome)
		}
	})
}

func TestTraceAppendOnlyInDatabase(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		l := runLog(t, db, trace.Config{}, newKey(t))
		appendN(t, l, 0, 2)
		for _, q := range []string{
			`UPDATE trace_entries SET purpose = 'x' WHERE seq = 0`,
			`DELETE FROM trace_entries WHERE seq = 1`,
			`DELETE FROM trace_cameras`,
			`UPDATE trace_head SET size = 0`,
		} {
			if _, err := db.SQL().Exec(q); err == nil {
				t.Errorf("Exec(%q) = nil error; want the database to refuse it", q)
			}
		}
		if db.Dialect() == store.Postgres {
			if _, err := db.SQL().Exec(`TRUNCATE trace_entries CASCADE`); err == nil {
				t.Errorf("TRUNCATE trace_entries = nil error; want refused")
			}
		}
	})
}

func TestTraceProofs(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		key := newKey(t)
		// Memory level 2 keeps only nodes of 4 leaves and up, so proofs also read leaf tiles.
		l := runLog(t, db, trace.Config{MemoryLevel: 2, CheckpointEvery: 1 << 30}, key)
		const n = 45
		roots := map[int64][]byte{}
		for i := range n {
			appendN(t, l, i, 1)
			msg, err := l.Checkpoint(ctx)
			if err != nil {
				t.Fatal(err)
			}
			cp, err := trace.OpenCheckpoint(msg, key.VerifierKey())
			if err != nil {
				t.Fatalf("OpenCheckpoint() = %v", err)
			}
			if cp.Size != int64(i+1) {
				t.Fatalf("checkpoint size %d; want %d", cp.Size, i+1)
			}
			roots[cp.Size] = cp.Root
		}
		for size := int64(1); size <= n; size++ {
			for seq := int64(0); seq < size; seq++ {
				p, err := l.InclusionProof(ctx, seq, size)
				if err != nil {
					t.Fatalf("InclusionProof(%d, %d) = %v", seq, size, err)
				}
				if err := trace.VerifyInclusion(seq, size, p.LeafHash, p.Hashes, roots[size]); err != nil {
					t.Fatalf("VerifyInclusion(%d, %d) against the signed root = %v", seq, size, err)
				}
				if seq+1 < size {
					if err := trace.VerifyInclusion(seq+1, size, p.LeafHash, p.Hashes, roots[size]); err == nil {
						t.Fatalf("VerifyInclusion(%d as %d, %d) = nil; want a mismatch", seq, seq+1, size)
					}
				}
			}
			for size1 := int64(0); size1 <= size; size1++ {
				p, err := l.ConsistencyProof(ctx, size1, size)
				if err != nil {
					t.Fatalf("ConsistencyProof(%d, %d) = %v", size1, size, err)
				}
				root1 := roots[size1]
				if size1 == 0 {
					root1 = rfc6962.DefaultHasher.EmptyRoot()
				}
				if err := trace.VerifyConsistency(size1, size, p.Hashes, root1, roots[size]); err != nil {
					t.Fatalf("VerifyConsistency(%d, %d) = %v", size1, size, err)
				}
				if size1 > 0 && size1 < size {
					if err := trace.VerifyConsistency(size1, size, p.Hashes, roots[size1+1], roots[size]); err == nil {
						t.Fatalf("VerifyConsistency(%d, %d) with the wrong first root = nil; want an error", size1, size)
					}
				}
			}
		}
		if _, err := l.InclusionProof(ctx, 3, n+1); err == nil {
			t.Errorf("InclusionProof(3, %d) beyond the trail = nil error; want an error", n+1)
		}
		// The leaf hash in a proof is the entry's.
		rows, err := db.QueryTrace(ctx, trace.Filter{OldestFirst: true, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		p, _ := l.InclusionProof(ctx, 0, n)
		if leaf, err := trace.LeafHash(&rows[0]); err != nil || !bytes.Equal(p.LeafHash, leaf) {
			t.Errorf("proof leaf hash %x; want the entry's %x (%v)", p.LeafHash, leaf, err)
		}
	})
}

// A restarted log loads its tree and checkpoint state and carries on where it stopped.
func TestTraceRestart(t *testing.T) {
	db := storetest.SQLite(t)
	key := newKey(t)
	clock := clocktest.Ticking(traceT0, time.Microsecond)
	for round := range 3 {
		l := trace.New(trace.Config{MemoryLevel: 3}, trace.Deps{Store: db, Key: key, Now: clock.Now})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- l.Run(ctx) }()
		appendN(t, l, round*11, 11)
		p, err := l.InclusionProof(context.Background(), 2, int64(round*11+11))
		if err != nil || p.Verify() != nil {
			t.Fatalf("round %d: InclusionProof = %v, verify %v", round, err, p.Verify())
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run() = %v", err)
		}
	}
	rep := verify(t, db, key, nil)
	if !rep.Intact || rep.Entries != 33 || rep.Unsigned != 0 {
		t.Errorf("Verify() = %+v; want 33 intact entries all signed (a checkpoint at stop)", rep)
	}
}

// benchDB opens a database of the named dialect for a benchmark.
func benchDB(b *testing.B, dialect string) *store.DB {
	if dialect == "postgres" {
		return storetest.Postgres(b)
	}
	return storetest.SQLite(b)
}

// BenchmarkTraceAppend measures durable appends per second with 1, 8 and 64 concurrent writers,
// group commit beside the alternative of one transaction (one sync) per append.
func BenchmarkTraceAppend(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		for _, mode := range []struct {
			name     string
			maxBatch int
		}{{"group", 0}, {"tx-per-append", 1}} {
			for _, writers := range []int{1, 8, 64} {
				b.Run(fmt.Sprintf("%s/%s/writers=%d", dialect, mode.name, writers), func(b *testing.B) {
					db := benchDB(b, dialect)
					l := runLog(b, db, trace.Config{MaxBatch: mode.maxBatch}, newKey(b))
					var next sync.Mutex
					left := b.N
					b.ResetTimer()
					var wg sync.WaitGroup
					for range writers {
						wg.Add(1)
						go func() {
							defer wg.Done()
							for i := 0; ; i++ {
								next.Lock()
								if left == 0 {
									next.Unlock()
									return
								}
								left--
								next.Unlock()
								if _, err := l.Append(context.Background(), sampleEntry(i)); err != nil {
									b.Error(err)
									return
								}
							}
						}()
					}
					wg.Wait()
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
				})
			}
		}
	}
}

// bulkFill writes n entries straight through AppendTrace in large transactions, hashing them as
// the log does, so that big-trail benchmarks do not wait on a million acknowledgements.
func bulkFill(b testing.TB, db *store.DB, n int) {
	b.Helper()
	h := rfc6962.DefaultHasher
	rng := (&compact.RangeFactory{Hash: h.HashChildren}).NewEmptyRange(0)
	const chunk = 10000
	for start := 0; start < n; start += chunk {
		err := db.AppendTrace(context.Background(), func(ctx context.Context, tx trace.AppendTx) error {
			size, chain, err := tx.LockHead(ctx)
			if err != nil {
				return err
			}
			rows := make([]trace.Row, 0, chunk)
			for i := int(size); i < min(n, start+chunk); i++ {
				e := sampleEntry(i)
				e.Seq = int64(i)
				r := trace.NewRow(e)
				rng.Append(r.LeafHash, nil)
				r.Chain = trace.ChainHash(chain, r.LeafHash)
				chain = r.Chain
				rows = append(rows, r)
			}
			root, _ := rng.GetRootHash(nil)
			return tx.Insert(ctx, rows, root)
		})
		if err != nil {
			b.Fatalf("bulk fill at %d: %v", start, err)
		}
	}
}

// BenchmarkTraceLarge builds a trail of CIVICAM_TRACE_BENCH_N entries (default 1,000,000) once
// per dialect and measures inclusion proof build+verify at that size for several memory levels
// side by side, and Verify's throughput beside a bare scan of the same rows.
func BenchmarkTraceLarge(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("CIVICAM_TRACE_BENCH_N"); s != "" {
		if v, err := strconv.Atoi(s); err == nil && v > 0 {
			n = v
		}
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			db := benchDB(b, dialect)
			start := time.Now()
			bulkFill(b, db, n)
			b.Logf("%s: filled %d entries in %v", dialect, n, time.Since(start))
			key := newKey(b)
			ctx := context.Background()
			for _, level := range []int{0, 4, 6} {
				b.Run(fmt.Sprintf("proof/memlevel=%d", level), func(b *testing.B) {
					loadStart := time.Now()
					l := runLog(b, db, trace.Config{MemoryLevel: level}, key)
					if _, err := l.Size(ctx); err != nil {
						b.Fatal(err)
					}
					b.Logf("memlevel %d: loaded %d leaf hashes in %v", level, n, time.Since(loadStart))
					root, err := l.InclusionProof(ctx, 0, int64(n))
					if err != nil {
						b.Fatal(err)
					}
					b.ResetTimer()
					seq := int64(12345)
					for b.Loop() {
						seq = (seq*6364136223846793005 + 1442695040888963407) & (1<<62 - 1)
						p, err := l.InclusionProof(ctx, seq%int64(n), int64(n))
						if err != nil {
							b.Fatal(err)
						}
						if err := trace.VerifyInclusion(p.Seq, p.TreeSize, p.LeafHash, p.Hashes, root.Root); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
			// CPU time per entry beside the rate: on a shared machine the rate tells what the
			// others left, the CPU time what the work costs.
			verifyAll := func(b *testing.B) {
				cpu0 := cpuTime(b)
				for b.Loop() {
					rep, err := trace.Verify(ctx, db, key.VerifierKey(), nil)
					if err != nil || !rep.Intact || rep.Entries != int64(n) {
						b.Fatalf("Verify() = %+v, %v", rep, err)
					}
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
				b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(n*b.N), "cpu-ns/entry")
			}
			b.Run("verify", verifyAll)
			// As `civicam trace verify` runs it, in a process of its own.
			b.Run("verify-cli-gc", func(b *testing.B) {
				defer debug.SetGCPercent(debug.SetGCPercent(trace.VerifyGCPercent))
				verifyAll(b)
			})
			b.Run("scan-only", func(b *testing.B) {
				cpu0 := cpuTime(b)
				for b.Loop() {
					var c int
					if err := db.ScanTrace(ctx, 0, math.MaxInt64, func(*trace.Row) error { c++; return nil }); err != nil || c != n {
						b.Fatalf("ScanTrace() = %d rows, %v", c, err)
					}
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
				b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(n*b.N), "cpu-ns/entry")
			})
		})
	}
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestTraceAnonymousDenialsAreCounted: one address's unauthenticated denials past the limit are
// counted in one summary entry, written at the latest when the log stops; none is lost.
func TestTraceAnonymousDenialsAreCounted(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		l := trace.New(trace.Config{AnonymousDenials: 10}, trace.Deps{Store: db, Key: newKey(t), Now: clocktest.Ticking(traceT0, time.Microsecond).Now})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- l.Run(ctx) }()
		for range 50 {
			if _, err := l.Append(context.Background(), trace.Entry{Actor: trace.Actor{Username: strings.Repeat("u", 1<<20), ClientAddr: "10.0.0.9"},
				Action: trace.ActionLoginFailed, Outcome: trace.Denied, Reason: "wrong password"}); err != nil {
				t.Fatalf("Append() = %v", err)
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run() = %v", err)
		}
		l2 := runLog(t, db, trace.Config{}, newKey(t))
		es, _, err := l2.Query(context.Background(), trace.Filter{OldestFirst: true, Limit: trace.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 11 || es[10].Detail["dropped"] != "40" {
			t.Fatalf("trail after 50 anonymous denials = %d entries (last %+v); want 10 and a summary of 40", len(es), es[len(es)-1])
		}
		for _, e := range es[:10] {
			if len(e.Actor.Username) > 64 {
				t.Errorf("a 1 MiB username went into the trail as %d bytes; want it cut to 64", len(e.Actor.Username))
			}
		}
	})
}

// TestVerifyRemoteNamesTheEdit checks trace.VerifyRemote, the check through the API alone, on
// a trail tampered with in the database: it names the first bad entry from the server's proofs
// even when the forger rewrote the stored hashes too, and reports a removed entry.
func TestVerifyRemoteNamesTheEdit(t *testing.T) {
	const n = 20
	tests := []struct {
		name      string
		tamper    func(tp *tamperer)
		firstBad  int64
		wantInMsg string
	}{
		{"intact", func(*tamperer) {}, -1, ""},
		{"edit username", func(tp *tamperer) { tp.editEntry(7, `"username":"name1"`, `"username":"x"`) }, 7, "was edited"},
		{"edit reason and rehash", func(tp *tamperer) { tp.editEntry(12, `"reason":"[^"]*"`, `"reason":"nothing"`); tp.rehash(12) }, 12, "was edited"},
		{"remove an entry", func(tp *tamperer) { tp.exec(`UPDATE trace_entries SET seq = 1000 WHERE seq = 7`) }, 7, "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := storetest.SQLite(t)
			key := newKey(t)
			l := runLog(t, db, trace.Config{CheckpointEvery: 1 << 30}, key)
			appendN(t, l, 0, n)
			cp, err := l.Checkpoint(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			tt.tamper(newTamperer(t, db))
			rep, err := trace.VerifyRemote(context.Background(), logRemote{l}, key.VerifierKey(), cp)
			if err != nil {
				t.Fatalf("VerifyRemote() = %v", err)
			}
			if tt.firstBad < 0 {
				if !rep.Intact || rep.Entries != n {
					t.Errorf("VerifyRemote(intact) = %+v; want %d intact entries", rep, n)
				}
				return
			}
			if rep.Intact || rep.FirstBad != tt.firstBad || rep.BadUntil != tt.firstBad+1 || !strings.Contains(rep.Problem, tt.wantInMsg) {
				t.Errorf("VerifyRemote() = %+v; want entry %d named, %q", rep, tt.firstBad, tt.wantInMsg)
			}
		})
	}
}

// TestTraceReceipt: a receipt proves its entry with the verifier key alone, and fails when the
// entry, the proof or the checkpoint is altered, or when it is checked with another key.
func TestTraceReceipt(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		key := newKey(t)
		l := runLog(t, db, trace.Config{CheckpointEvery: 1 << 30}, key)
		appendN(t, l, 0, 11)
		r, err := l.Receipt(ctx, 6)
		if err != nil {
			t.Fatalf("Receipt(6) = %v", err)
		}
		e, c, err := r.Check(key.VerifierKey())
		if err != nil {
			t.Fatalf("Receipt(6).Check() = %v", err)
		}
		if want := sampleEntry(6); e.Seq != 6 || e.Reference != want.Reference || c.Size != 11 {
			t.Fatalf("Receipt(6).Check() = entry %d %q in a tree of %d; want 6 %q in 11", e.Seq, e.Reference, c.Size, want.Reference)
		}
		other := newKey(t)
		edited := func(f func(*trace.Receipt)) trace.Receipt {
			c := r
			c.Leaf = append([]byte(nil), r.Leaf...)
			c.Proof = append([][]byte(nil), r.Proof...)
			f(&c)
			return c
		}
		for _, tc := range []struct {
			name string
			r    trace.Receipt
			key  string
		}{
			{"entry edited", edited(func(c *trace.Receipt) { c.Leaf[len(c.Leaf)/2] ^= 1 }), key.VerifierKey()},
			{"another entry's seq", edited(func(c *trace.Receipt) { c.Seq = 5 }), key.VerifierKey()},
			{"proof shortened", edited(func(c *trace.Receipt) { c.Proof = c.Proof[1:] }), key.VerifierKey()},
			{"checkpoint edited", edited(func(c *trace.Receipt) { c.Checkpoint = strings.Replace(c.Checkpoint, "\n11\n", "\n12\n", 1) }), key.VerifierKey()},
			{"another key", r, other.VerifierKey()},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if _, _, err := tc.r.Check(tc.key); err == nil {
					t.Fatalf("Check() of a receipt with %s = nil; want an error", tc.name)
				}
			})
		}
	})
}
