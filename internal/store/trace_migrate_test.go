package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"

	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// legacyRow is a trail entry as layout 1 stored it, in its sixteen columns.
type legacyRow struct {
	seq, at                                              int64
	userID, username, role, org, client, action, cameras string
	from, to                                             int64
	reference, purpose, outcome, reason, detail          string
}

// leaf is layout 1's leaf hash, written out here from its documented layout rather than taken
// from package trace, so that the test holds the old format fixed on its own.
func (r legacyRow) leaf() []byte {
	b := []byte{0, 1} // the RFC 6962 leaf prefix, then layout 1
	b = binary.BigEndian.AppendUint64(b, uint64(r.seq))
	b = binary.BigEndian.AppendUint64(b, uint64(r.at))
	for _, s := range []string{r.userID, r.username, r.role, r.org, r.client, r.action, r.cameras} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(r.from))
	b = binary.BigEndian.AppendUint64(b, uint64(r.to))
	for _, s := range []string{r.reference, r.purpose, r.outcome, r.reason, r.detail} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	h := sha256.Sum256(b)
	return h[:]
}

// The test's layout-1 encoder gives the leaf package trace pinned for layout 1.
func TestLegacyLeafMatchesLayout1(t *testing.T) {
	micros := func(s string) int64 {
		v, _ := time.Parse(time.RFC3339Nano, s)
		return v.UnixMicro()
	}
	r := legacyRow{seq: 42, at: micros("2026-03-01T08:00:00.123456Z"), userID: "u-1", username: "li.wei", role: "reviewer",
		org: "o-1", client: "10.1.2.3", action: "playback", cameras: `["c-1","c-2"]`,
		from: micros("2026-02-28T20:00:00Z"), to: micros("2026-02-28T21:00:00Z"), reference: "APP-2026-0001",
		purpose: "missing child", outcome: "allowed", reason: "application accepted", detail: `{"a":"b","rule":"REG-6"}`}
	const want = "8c5bd794dc651413dc67fd8d8156829381278df33ccfc9b3cb46868fff5cd7fe" // trace.TestLeafHashStable
	if got := hex.EncodeToString(r.leaf()); got != want {
		t.Errorf("legacyRow.leaf() = %s; want %s", got, want)
	}
}

// A trail written in layout 1 survives migration 0007: it verifies, its checkpoints still hold,
// auditors' filters find its entries, new entries append after it, and a later edit of a
// migrated entry is caught.
func TestTraceMigrationKeepsLayout1Trail(t *testing.T) {
	storetest.ForEachConfig(t, func(t *testing.T, cfg store.Config) {
		ctx := context.Background()
		old, err := store.OpenUntil(ctx, cfg, "0006_sharing")
		if err != nil {
			t.Fatalf("OpenUntil(0006) = %v", err)
		}
		key := newKey(t)
		const n = 30
		t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC).UnixMicro()
		var rows []legacyRow
		rng := (&compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}).NewEmptyRange(0)
		var root []byte
		for i := range int64(n) {
			r := legacyRow{seq: i, at: t0 + i*60e6, userID: "u-1", username: "li.wei", role: "operator", org: "o-1",
				client: "10.0.0.1", action: "playback", cameras: `["cam-1"]`, reference: "APP-1", purpose: "search",
				outcome: "allowed", reason: "", detail: `{}`}
			switch i % 5 {
			case 1: // text that JSON must escape, and that is not ASCII
				r.purpose, r.reason = "line\nbreak \"quoted\" back\\slash\t<&>", "寻找走失儿童 ünï"
			case 2:
				r.userID, r.username, r.action, r.outcome, r.cameras = "", "nobody", "login_failed", "denied", `[]`
			case 3:
				r.cameras, r.from, r.to, r.detail = `["cam-1","cam-2"]`, t0-3600e6, t0, `{"a":"b","rule":"REG-5"}`
			case 4:
				r.userID, r.username, r.action = "u-2", "wang.fang", "live_view"
			}
			rows = append(rows, r)
			if err := rng.Append(r.leaf(), nil); err != nil {
				t.Fatal(err)
			}
			root, _ = rng.GetRootHash(nil)
			if _, err := old.SQL().Exec(`INSERT INTO trace_entries (seq, at, user_id, username, role, organisation_id,
				client_addr, action, camera_ids, range_from, range_to, reference, purpose, outcome, reason, detail,
				leaf_hash, root_hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18)`,
				r.seq, r.at, r.userID, r.username, r.role, r.org, r.client, r.action, r.cameras, r.from, r.to,
				r.reference, r.purpose, r.outcome, r.reason, r.detail, r.leaf(), root); err != nil {
				t.Fatalf("insert layout-1 entry %d: %v", i, err)
			}
			var ids []string
			json.Unmarshal([]byte(r.cameras), &ids)
			for _, id := range ids {
				if _, err := old.SQL().Exec(`INSERT INTO trace_cameras (seq, camera_id) VALUES ($1, $2)`, i, id); err != nil {
					t.Fatal(err)
				}
			}
			if i == 19 {
				note, err := trace.SignCheckpoint(key, 20, root)
				if err != nil {
					t.Fatal(err)
				}
				if err := old.PutTraceCheckpoint(ctx, trace.StoredCheckpoint{Size: 20, Root: root, Note: note, At: time.Now()}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := old.SQL().Exec(`UPDATE trace_head SET size = $1, root = $2`, n, root); err != nil {
			t.Fatal(err)
		}
		old.Close()

		db, err := store.Open(ctx, cfg)
		if err != nil {
			t.Fatalf("Open() migrating to layout 2 = %v", err)
		}
		defer db.Close()
		rep := verify(t, db, key, nil)
		if !rep.Intact || rep.Entries != n || rep.Checkpoints != 1 {
			t.Fatalf("Verify() after migration = %+v; want %d intact entries, 1 checkpoint", rep, n)
		}
		// Every migrated entry reads back as it was written.
		got, _, err := trace.Query(ctx, db, trace.Filter{OldestFirst: true, Limit: 100})
		if err != nil || len(got) != n {
			t.Fatalf("Query(all) = %d entries, %v; want %d", len(got), err, n)
		}
		for i, e := range got {
			r := rows[i]
			var ids []string
			json.Unmarshal([]byte(r.cameras), &ids)
			if e.Seq != r.seq || e.Time.UnixMicro() != r.at || e.Actor.UserID != r.userID || e.Actor.Username != r.username ||
				string(e.Action) != r.action || string(e.Outcome) != r.outcome || e.Purpose != r.purpose || e.Reason != r.reason ||
				!slices.Equal(e.CameraIDs, ids) || (r.from != 0 && e.From.UnixMicro() != r.from) || (r.detail != "{}" && e.Detail["rule"] != "REG-5") {
				t.Errorf("migrated entry %d = %+v; want %+v", i, e, r)
			}
		}
		// New entries go on in layout 2 after the old ones, and the filters see both.
		l := runLog(t, db, trace.Config{CheckpointEvery: 1 << 30}, key)
		appendN(t, l, n, 10)
		if _, err := l.Checkpoint(ctx); err != nil {
			t.Fatalf("Checkpoint() = %v", err)
		}
		if rep := verify(t, db, key, nil); !rep.Intact || rep.Entries != n+10 || rep.Checkpoints != 2 {
			t.Fatalf("Verify() after appending = %+v; want %d intact entries, 2 checkpoints", rep, n+10)
		}
		// The leaves served to verifiers off the platform are the layout-1 bytes of the migrated
		// entries, so they hash as the old leaves did, and the remote check passes.
		leaves, size, err := l.Leaves(ctx, 0, 1000)
		if err != nil || size != n+10 || len(leaves) != n+10 {
			t.Fatalf("Leaves(0, 1000) = %d leaves of %d, %v; want %d", len(leaves), size, err, n+10)
		}
		for i, r := range rows {
			if got := rfc6962.DefaultHasher.HashLeaf(leaves[i].Data); !slices.Equal(got, r.leaf()) || leaves[i].Index != int64(i) {
				t.Errorf("leaf %d (index %d) hashes to %x; want the layout-1 leaf %x", i, leaves[i].Index, got, r.leaf())
			}
		}
		if rep, err := trace.VerifyRemote(ctx, logRemote{l}, key.VerifierKey(), nil); err != nil || !rep.Intact || rep.Entries != n+10 {
			t.Errorf("VerifyRemote(migrated trail) = %+v, %v; want %d intact entries", rep, err, n+10)
		}
		filters := []struct {
			f    trace.Filter
			want int
		}{
			{trace.Filter{Actor: "wang.fang"}, 6},
			{trace.Filter{Actor: "u-2"}, 6},
			{trace.Filter{Action: trace.ActionLoginFailed}, 6},
			{trace.Filter{Outcome: trace.Denied}, 6 + 2},                                                // + sampleEntry's denials
			{trace.Filter{CameraID: "cam-2"}, 6 + 3},                                                    // + sampleEntry's cam-2 (30, 34, 38)
			{trace.Filter{Since: time.UnixMicro(t0 + 10*60e6), Until: time.UnixMicro(t0 + 15*60e6)}, 5}, // entries 10..14
		}
		for _, tt := range filters {
			tt.f.Limit = 100
			got, _, err := trace.Query(ctx, db, tt.f)
			if err != nil || len(got) != tt.want {
				t.Errorf("Query(%+v) = %d entries, %v; want %d", tt.f, len(got), err, tt.want)
			}
		}
		// A migrated entry's tree root, and a migrated entry, edited afterwards are named.
		tp := newTamperer(t, db)
		tp.exec(`UPDATE trace_entries SET chain_hash = $1 WHERE seq = 25`, make([]byte, 32))
		if rep := verify(t, db, key, nil); rep.Intact || rep.FirstBad != 25 || !strings.Contains(rep.Problem, "tree root") {
			t.Errorf("Verify() after editing migrated entry 25's root = %+v; want entry 25 named", rep)
		}
		tp.editEntry(10, `"purpose"\s*:\s*"[^"]*"`, `"purpose":"curiosity"`)
		if rep := verify(t, db, key, nil); rep.Intact || rep.FirstBad != 10 || !strings.Contains(rep.Problem, "leaf hash") {
			t.Errorf("Verify() after editing migrated entry 10 = %+v; want entry 10 named", rep)
		}
	})
}

// logRemote serves a log as trace.Remote, as the API does.
type logRemote struct{ l *trace.Log }

func (r logRemote) Checkpoint(ctx context.Context) ([]byte, error) { return r.l.Latest(ctx) }

func (r logRemote) Leaves(ctx context.Context, start int64, limit int) ([]trace.Leaf, error) {
	ls, _, err := r.l.Leaves(ctx, start, limit)
	return ls, err
}

func (r logRemote) Consistency(ctx context.Context, size1, size2 int64) ([][]byte, error) {
	p, err := r.l.ConsistencyProof(ctx, size1, size2)
	return p.Hashes, err
}

func (r logRemote) Inclusion(ctx context.Context, seq, size int64) ([]byte, [][]byte, error) {
	p, err := r.l.InclusionProof(ctx, seq, size)
	return p.LeafHash, p.Hashes, err
}
