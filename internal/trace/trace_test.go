package trace

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestEncodeIsUnambiguous(t *testing.T) {
	base := Row{Seq: 1, At: 2, UserID: "ab", Username: "c", Action: "login", CameraIDs: "[]", Detail: "{}"}
	variants := []func(r *Row){
		func(r *Row) { r.UserID, r.Username = "a", "bc" },     // a boundary moved between fields
		func(r *Row) { r.UserID, r.Username = "abc", "" },     // ... and to an empty field
		func(r *Row) { r.Seq = 2 },                            // position
		func(r *Row) { r.At = 3 },                             // time
		func(r *Row) { r.RangeFrom = 1 },                      // range
		func(r *Row) { r.Role, r.OrganisationID = "x", "" },   // role vs organisation
		func(r *Row) { r.Role, r.OrganisationID = "", "x" },   //
		func(r *Row) { r.Reason, r.Detail = "{}", "" },        // trailing fields
		func(r *Row) { r.CameraIDs = `["a"]` },                // cameras
		func(r *Row) { r.Purpose, r.Outcome = "allowed", "" }, // adjacent free text
	}
	seen := map[string]int{string(base.Encode(nil)): -1}
	for i, v := range variants {
		r := base
		v(&r)
		enc := string(r.Encode(nil))
		if j, dup := seen[enc]; dup {
			t.Errorf("variant %d encodes like %d: %x", i, j, enc)
		}
		seen[enc] = i
	}
	if got := base.Encode(nil)[0]; got != EncodingVersion {
		t.Errorf("Encode()[0] = %d; want version %d", got, EncodingVersion)
	}
}

// The leaf of a fixed entry must never change: old trails have to keep verifying. Changing the
// layout takes a new EncodingVersion, not an edit of this value.
func TestLeafHashStable(t *testing.T) {
	e := Entry{
		Seq: 42, Time: time.Date(2026, 3, 1, 8, 0, 0, 123456000, time.UTC),
		Actor:  Actor{UserID: "u-1", Username: "li.wei", Role: "reviewer", OrganisationID: "o-1", ClientAddr: "10.1.2.3"},
		Action: ActionPlayback, CameraIDs: []string{"c-1", "c-2"},
		From: time.Date(2026, 2, 28, 20, 0, 0, 0, time.UTC), To: time.Date(2026, 2, 28, 21, 0, 0, 0, time.UTC),
		Reference: "APP-2026-0001", Purpose: "missing child", Outcome: Allowed, Reason: "application accepted",
		Detail: map[string]string{"rule": "REG-6", "a": "b"},
	}
	r := e.ToRow()
	// The layout written out by hand: version, seq, at, length-prefixed strings, range, strings.
	be := func(v int64) string {
		return string([]byte{byte(v >> 56), byte(v >> 48), byte(v >> 40), byte(v >> 32), byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	str := func(s string) string { return string([]byte{byte(len(s))}) + s }
	layout := "\x01" + be(42) + be(e.Time.UnixMicro()) + str("u-1") + str("li.wei") + str("reviewer") + str("o-1") +
		str("10.1.2.3") + str("playback") + str(`["c-1","c-2"]`) + be(e.From.UnixMicro()) + be(e.To.UnixMicro()) +
		str("APP-2026-0001") + str("missing child") + str("allowed") + str("application accepted") + str(`{"a":"b","rule":"REG-6"}`)
	if got := string(r.Encode(nil)); got != layout {
		t.Errorf("Encode() = %q; want %q", got, layout)
	}
	const want = "8c5bd794dc651413dc67fd8d8156829381278df33ccfc9b3cb46868fff5cd7fe"
	got := hex.EncodeToString(LeafHash(&r))
	if got != want {
		t.Errorf("LeafHash(fixed entry) = %s; want %s", got, want)
	}
	back, err := r.Entry()
	if err != nil {
		t.Fatalf("Row.Entry() = %v", err)
	}
	if back.Time != e.Time || strings.Join(back.CameraIDs, ",") != "c-1,c-2" || back.Detail["rule"] != "REG-6" || back.Actor != e.Actor {
		t.Errorf("Row.Entry() = %+v; want %+v", back, e)
	}
}

func TestEntryValidate(t *testing.T) {
	ok := Entry{Action: ActionLogin, Outcome: Allowed}
	tests := []struct {
		name  string
		e     func(Entry) Entry
		valid bool
	}{
		{"minimal", func(e Entry) Entry { return e }, true},
		{"no action", func(e Entry) Entry { e.Action = ""; return e }, false},
		{"bad outcome", func(e Entry) Entry { e.Outcome = "ok"; return e }, false},
		{"range backwards", func(e Entry) Entry {
			e.From, e.To = time.Unix(10, 0), time.Unix(5, 0)
			return e
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.e(ok).Validate()
			if (err == nil) != tt.valid {
				t.Errorf("Validate() = %v; want valid %v", err, tt.valid)
			}
		})
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.key")
	k1, err := LoadOrCreateKey(path, "civicam.test/trace")
	if err != nil {
		t.Fatalf("LoadOrCreateKey(new) = %v", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %o; want 600", st.Mode().Perm())
	}
	k2, err := LoadOrCreateKey(path, "ignored-when-loading")
	if err != nil {
		t.Fatalf("LoadOrCreateKey(existing) = %v", err)
	}
	if k1.VerifierKey() != k2.VerifierKey() || k2.Name() != "civicam.test/trace" {
		t.Errorf("reloaded key %q, name %q; want %q", k2.VerifierKey(), k2.Name(), k1.VerifierKey())
	}
	if !strings.HasPrefix(k1.VerifierKey(), "civicam.test/trace+") {
		t.Errorf("VerifierKey() = %q; want the note form name+hash+key", k1.VerifierKey())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("key dir holds %d files; want only the key (no temp file left)", len(entries))
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(path, "x"); err == nil {
		t.Errorf("LoadOrCreateKey(mode 644) = nil error; want refused")
	}
	bad := filepath.Join(t.TempDir(), "bad.key")
	if err := os.WriteFile(bad, []byte("PRIVATE+KEY+nonsense"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(bad, "x"); err == nil {
		t.Errorf("LoadOrCreateKey(malformed) = nil error; want an error")
	}
}

func TestCheckpointSignOpen(t *testing.T) {
	k, _, err := GenerateKey("civicam.test/trace")
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := GenerateKey("civicam.test/trace")
	if err != nil {
		t.Fatal(err)
	}
	root := bytes.Repeat([]byte{7}, 32)
	msg, err := SignCheckpoint(k, 12, root)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(msg), "civicam.test/trace\n12\nBwcH") {
		t.Errorf("checkpoint = %q; want origin, size, base64 root lines", msg)
	}
	c, err := OpenCheckpoint(msg, k.VerifierKey())
	if err != nil || c.Size != 12 || !bytes.Equal(c.Root, root) || c.Origin != "civicam.test/trace" {
		t.Fatalf("OpenCheckpoint() = %+v, %v; want size 12 and the root", c, err)
	}
	if _, err := OpenCheckpoint(msg, other.VerifierKey()); err == nil {
		t.Errorf("OpenCheckpoint(other key) = nil error; want an error")
	}
	forged := bytes.Replace(msg, []byte("\n12\n"), []byte("\n13\n"), 1)
	if _, err := OpenCheckpoint(forged, k.VerifierKey()); err == nil {
		t.Errorf("OpenCheckpoint(size edited) = nil error; want an error")
	}
}

func TestWriteCSV(t *testing.T) {
	es := []Entry{{
		Seq: 3, Time: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC),
		Actor:  Actor{UserID: "u", Username: "n", Role: "auditor"},
		Action: ActionTraceRead, CameraIDs: []string{"a", "b"}, Purpose: "=HYPERLINK(\"http://x\")",
		Reason: "a, \"quoted\"\nline", Outcome: Allowed, Detail: map[string]string{"k": "v"},
	}}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, es); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("csv read back = %v", err)
	}
	if len(recs) != 2 || strings.Join(recs[0], ",") != strings.Join(CSVHeader, ",") {
		t.Fatalf("csv = %q; want a header and one row", recs)
	}
	got := map[string]string{}
	for i, h := range recs[0] {
		got[h] = recs[1][i]
	}
	want := map[string]string{"seq": "3", "time": "2026-01-02T03:04:05.000006Z", "camera_ids": "a;b",
		"purpose": "'=HYPERLINK(\"http://x\")", "reason": "a, \"quoted\"\nline", "detail": `{"k":"v"}`, "from": ""}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("csv %s = %q; want %q", k, got[k], v)
		}
	}
}

// memLeaves is an in-memory leaf store for tree tests.
type memLeaves [][]byte

func (m memLeaves) read(_ context.Context, from, to int64) ([][]byte, error) {
	to = min(to, int64(len(m)))
	return m[from:to], nil
}

// Every memory level gives the same roots and proofs as the plain compact range.
func TestTreeMemoryLevels(t *testing.T) {
	ctx := context.Background()
	var leaves memLeaves
	for i := range 70 {
		leaves = append(leaves, hasher.HashLeaf([]byte{byte(i)}))
	}
	ref := rangeFactory.NewEmptyRange(0)
	roots := [][]byte{hasher.EmptyRoot()}
	for _, l := range leaves {
		ref.Append(l, nil)
		r, _ := ref.GetRootHash(nil)
		roots = append(roots, r)
	}
	for _, level := range []uint{0, 1, 3, 5} {
		tr := newTree(level, leaves.read)
		if err := tr.add(0, leaves[:33]); err != nil {
			t.Fatal(err)
		}
		if err := tr.add(30, leaves[30:]); err != nil { // overlapping adds are idempotent
			t.Fatal(err)
		}
		for size := int64(0); size <= 70; size++ {
			r, err := tr.root(ctx, size)
			if err != nil || !bytes.Equal(r, roots[size]) {
				t.Fatalf("level %d: root(%d) = %x, %v; want %x", level, size, r, err, roots[size])
			}
			for seq := int64(0); seq < size; seq++ {
				p, leaf, err := tr.inclusion(ctx, seq, size)
				if err != nil {
					t.Fatalf("level %d: inclusion(%d, %d) = %v", level, seq, size, err)
				}
				if err := VerifyInclusion(seq, size, leaf, p, roots[size]); err != nil || !bytes.Equal(leaf, leaves[seq]) {
					t.Fatalf("level %d: inclusion(%d, %d) does not verify: %v", level, seq, size, err)
				}
			}
		}
		if _, err := tr.root(ctx, 71); err == nil {
			t.Errorf("level %d: root(71) of a 70-leaf tree = nil error; want an error", level)
		}
		if err := tr.add(72, leaves[:1]); err == nil {
			t.Errorf("level %d: add with a gap = nil error; want an error", level)
		}
	}
}

func TestParseCameraIDs(t *testing.T) {
	for _, ids := range [][]string{
		{"cam-1"}, {"a", "b", "c"}, {`a","b`}, {`quote"inside`}, {"comma,inside", "x"}, {"<&>"}, {""}, {"", ""}, {"ünï", "日本"},
	} {
		enc := canonicalJSON(ids)
		got, err := parseCameraIDs(enc)
		if err != nil || strings.Join(got, "\x00") != strings.Join(ids, "\x00") || len(got) != len(ids) {
			t.Errorf("parseCameraIDs(%s) = %q, %v; want %q", enc, got, err, ids)
		}
	}
	for _, bad := range []string{`["a"`, `[1]`, `{"a":1}`, `["a",]`} {
		if got, err := parseCameraIDs(bad); err == nil {
			t.Errorf("parseCameraIDs(%s) = %q, nil; want an error", bad, got)
		}
	}
}

// memSource is a trail held in memory, so that Verify's chunking can be tested with tiny chunks;
// the SQL stores are tested against real databases in package store.
type memSource struct {
	rows []Row
	cams [][2]any // seq, camera id
	head int64
	root []byte
	cps  []StoredCheckpoint
}

func (m *memSource) TraceHead(context.Context) (int64, []byte, error) { return m.head, m.root, nil }
func (m *memSource) TraceCheckpoints(context.Context) ([]StoredCheckpoint, error) {
	return m.cps, nil
}
func (m *memSource) ScanTrace(ctx context.Context, from, to int64, fn func(*Row) error) error {
	for i := range m.rows {
		if r := m.rows[i]; r.Seq >= from && r.Seq < to {
			if err := fn(&r); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}
func (m *memSource) ScanTraceCameras(ctx context.Context, fn func(int64, string) error) error {
	for _, c := range m.cams {
		if err := fn(c[0].(int64), c[1].(string)); err != nil {
			return err
		}
	}
	return nil
}

func newMemTrail(t *testing.T, n int) *memSource {
	t.Helper()
	m := &memSource{}
	rng := rangeFactory.NewEmptyRange(0)
	for i := range n {
		e := Entry{Seq: int64(i), Time: time.Unix(int64(i), 0), Action: ActionLiveView, Outcome: Allowed,
			CameraIDs: []string{"cam-" + strconv.Itoa(i%3)}}
		r := e.ToRow()
		r.LeafHash = LeafHash(&r)
		rng.Append(r.LeafHash, nil)
		r.Root = rootOf(rng)
		m.rows = append(m.rows, r)
		m.cams = append(m.cams, [2]any{int64(i), "cam-" + strconv.Itoa(i%3)})
	}
	m.head, m.root = int64(n), rootOf(rng)
	return m
}

func TestVerifyChunked(t *testing.T) {
	defer func(old int64) { scanChunkSize = old }(scanChunkSize)
	scanChunkSize = 7
	ctx := context.Background()
	k, _, err := GenerateKey("civicam.test/trace")
	if err != nil {
		t.Fatal(err)
	}
	del := func(seqs ...int64) func(m *memSource) {
		return func(m *memSource) {
			m.rows = slices.DeleteFunc(m.rows, func(r Row) bool { return slices.Contains(seqs, r.Seq) })
		}
	}
	tests := []struct {
		name     string
		tamper   func(m *memSource)
		firstBad int64
	}{
		{"untouched", func(*memSource) {}, -1},
		{"root edited in a later chunk", func(m *memSource) { m.rows[50].Root = m.rows[49].Root }, 50},
		{"root edited, a later entry deleted", func(m *memSource) { m.rows[30].Root = m.rows[29].Root; del(40)(m) }, 30},
		{"leaf edited, a later root edited", func(m *memSource) { m.rows[30].Purpose = "x"; m.rows[45].Root = m.rows[44].Root }, 30},
		{"root edited, a later leaf edited", func(m *memSource) { m.rows[45].Purpose = "x"; m.rows[30].Root = m.rows[29].Root }, 30},
		{"first entry of a chunk deleted", del(21), 21},
		{"last entry of a chunk deleted", del(20), 20},
		{"tail of a chunk deleted", del(61, 62), 61},
		{"a whole chunk deleted", del(28, 29, 30, 31, 32, 33, 34), 28},
		{"tail truncated", del(95, 96, 97, 98, 99), 95},
		{"head size inflated", func(m *memSource) { m.head = 1 << 50 }, 100},
		{"head size deflated", func(m *memSource) { m.head = 60 }, 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemTrail(t, 100)
			tt.tamper(m)
			rep, err := Verify(ctx, m, k.VerifierKey(), nil)
			if err != nil {
				t.Fatalf("Verify() error = %v", err)
			}
			if rep.FirstBad != tt.firstBad || rep.Intact != (tt.firstBad < 0) {
				t.Errorf("Verify() = intact %v, first bad %d (%s); want first bad %d", rep.Intact, rep.FirstBad, rep.Problem, tt.firstBad)
			}
		})
	}
}
