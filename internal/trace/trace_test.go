package trace

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestEncodeIsUnambiguous(t *testing.T) {
	base := Entry{Seq: 1, Time: time.UnixMicro(2), Actor: Actor{UserID: "ab", Username: "c"}, Action: ActionLogin, Outcome: Allowed}
	variants := []func(e *Entry){
		func(e *Entry) { e.Actor.UserID, e.Actor.Username = "a", "bc" },   // a boundary moved between fields
		func(e *Entry) { e.Actor.UserID, e.Actor.Username = "abc", "" },   // ... and to an empty field
		func(e *Entry) { e.Actor.UserID = `ab","username":"c` },           // a field that looks like two
		func(e *Entry) { e.Seq = 2 },                                      // position
		func(e *Entry) { e.Time = time.UnixMicro(3) },                     // time
		func(e *Entry) { e.From = time.UnixMicro(1) },                     // range
		func(e *Entry) { e.Actor.Role, e.Actor.OrganisationID = "x", "" }, // role vs organisation
		func(e *Entry) { e.Actor.Role, e.Actor.OrganisationID = "", "x" }, //
		func(e *Entry) { e.Reason, e.Detail = "{}", nil },                 // trailing fields
		func(e *Entry) { e.Detail = map[string]string{"": ""} },           //
		func(e *Entry) { e.CameraIDs = []string{"a"} },                    // cameras
		func(e *Entry) { e.CameraIDs = []string{"a", "b"} },               //
		func(e *Entry) { e.CameraIDs = []string{`a","b`} },                //
		func(e *Entry) { e.Purpose, e.Outcome = "allowed", "" },           // adjacent free text
		func(e *Entry) { e.Purpose = "line\nbreak" },                      // escapes
		func(e *Entry) { e.Purpose = "line\\nbreak" },                     //
		func(e *Entry) { e.Purpose = "\x00\x1f\"" },                       //
		func(e *Entry) { e.Purpose = "\xff" },                             // invalid UTF-8
		func(e *Entry) { e.Purpose = "\u00e9\u2028" },                     // not ASCII
	}
	seen := map[string]int{string(base.Encode(nil)): -1}
	for i, v := range variants {
		e := base
		v(&e)
		enc := e.Encode(nil)
		if j, dup := seen[string(enc)]; dup {
			t.Errorf("variant %d encodes like %d: %s", i, j, enc)
		}
		seen[string(enc)] = i
		// The encoding is JSON that decodes to the entry (invalid UTF-8 aside).
		r := Row{Seq: e.Seq, Data: enc}
		back, err := r.Entry()
		if err != nil {
			t.Errorf("variant %d: Row{%s}.Entry() = %v", i, enc, err)
			continue
		}
		if want := validUTF8(e.Purpose); back.Purpose != want || back.Actor != e.Actor || !back.Time.Equal(e.Time) {
			t.Errorf("variant %d: Row{%s}.Entry() = %+v; want %+v", i, enc, back, e)
		}
		if seq, ids, err := entryHead(enc); err != nil || seq != e.Seq || !slices.Equal(ids, e.CameraIDs) && len(e.CameraIDs) > 0 {
			t.Errorf("variant %d: entryHead(%s) = %d, %q, %v; want %d, %q", i, enc, seq, ids, err, e.Seq, e.CameraIDs)
		}
	}
	if got := base.Encode(nil); !bytes.HasPrefix(got, []byte(`{"v":2,`)) {
		t.Errorf("Encode() = %s; want it to start with layout %d", got, EncodingVersion)
	}
}

// The leaves of fixed entries must never change: old trails have to keep verifying. Changing a
// layout takes a new EncodingVersion, not an edit of these values.
func TestLeafHashStable(t *testing.T) {
	e := Entry{
		Seq: 42, Time: time.Date(2026, 3, 1, 8, 0, 0, 123456000, time.UTC),
		Actor:  Actor{UserID: "u-1", Username: "li.wei", Role: "reviewer", OrganisationID: "o-1", ClientAddr: "10.1.2.3"},
		Action: ActionPlayback, CameraIDs: []string{"c-1", "c-2"},
		From: time.Date(2026, 2, 28, 20, 0, 0, 0, time.UTC), To: time.Date(2026, 2, 28, 21, 0, 0, 0, time.UTC),
		Reference: "APP-2026-0001", Purpose: "missing child", Outcome: Allowed, Reason: "application accepted",
		Detail: map[string]string{"rule": "REG-6", "a": "b"},
	}
	us := func(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }
	tests := []struct {
		name, data, leaf string
	}{
		{"layout 2", `{"v":2,"seq":42,"camera_ids":["c-1","c-2"],"at":` + us(e.Time) + `,"user_id":"u-1","username":"li.wei",` +
			`"role":"reviewer","organisation_id":"o-1","client_addr":"10.1.2.3","action":"playback","range_from":` + us(e.From) +
			`,"range_to":` + us(e.To) + `,"reference":"APP-2026-0001","purpose":"missing child","outcome":"allowed",` +
			`"reason":"application accepted","detail":{"a":"b","rule":"REG-6"}}`,
			"eb3d5887c7d40f8cb37ce5f298e2622d53812f6cff8da61ddef339dcb6e4e833"},
		// A row of layout 1 as migration 0007 rewrote it: its leaf is the one layout 1 gave it.
		{"layout 1, migrated", `{"v":1,"seq":42,"camera_ids":"[\"c-1\",\"c-2\"]","at":` + us(e.Time) + `,"user_id":"u-1",` +
			`"username":"li.wei","role":"reviewer","organisation_id":"o-1","client_addr":"10.1.2.3","action":"playback",` +
			`"range_from":` + us(e.From) + `,"range_to":` + us(e.To) + `,"reference":"APP-2026-0001","purpose":"missing child",` +
			`"outcome":"allowed","reason":"application accepted","detail":"{\"a\":\"b\",\"rule\":\"REG-6\"}"}`,
			"8c5bd794dc651413dc67fd8d8156829381278df33ccfc9b3cb46868fff5cd7fe"},
		// The same as PostgreSQL's json_build_object spaces it.
		{"layout 1, migrated on PostgreSQL", `{"v":1,"seq" : 42, "camera_ids" : "[\"c-1\",\"c-2\"]", "at" : ` + us(e.Time) + `, "user_id" : "u-1", ` +
			`"username" : "li.wei", "role" : "reviewer", "organisation_id" : "o-1", "client_addr" : "10.1.2.3", "action" : "playback", ` +
			`"range_from" : ` + us(e.From) + `, "range_to" : ` + us(e.To) + `, "reference" : "APP-2026-0001", "purpose" : "missing child", ` +
			`"outcome" : "allowed", "reason" : "application accepted", "detail" : "{\"a\":\"b\",\"rule\":\"REG-6\"}"}`,
			"8c5bd794dc651413dc67fd8d8156829381278df33ccfc9b3cb46868fff5cd7fe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "layout 2" {
				if got := string(e.Encode(nil)); got != tt.data {
					t.Errorf("Encode() = %s; want %s", got, tt.data)
				}
				if r := NewRow(e); string(r.Data) != tt.data || hex.EncodeToString(r.LeafHash) != tt.leaf || !slices.Equal(r.Cameras, e.CameraIDs) {
					t.Errorf("NewRow() = %s, leaf %x, cameras %q; want leaf %s", r.Data, r.LeafHash, r.Cameras, tt.leaf)
				}
			}
			r := Row{Seq: 42, Data: []byte(tt.data)}
			leaf, err := LeafHash(&r)
			if got := hex.EncodeToString(leaf); err != nil || got != tt.leaf {
				t.Errorf("LeafHash(fixed entry) = %s, %v; want %s", got, err, tt.leaf)
			}
			back, err := r.Entry()
			if err != nil {
				t.Fatalf("Row.Entry() = %v", err)
			}
			if back.Time != e.Time || back.From != e.From || back.To != e.To || strings.Join(back.CameraIDs, ",") != "c-1,c-2" ||
				back.Detail["rule"] != "REG-6" || back.Actor != e.Actor || back.Reason != e.Reason {
				t.Errorf("Row.Entry() = %+v; want %+v", back, e)
			}
			if seq, ids, err := entryHead(r.Data); err != nil || seq != 42 || !slices.Equal(ids, e.CameraIDs) {
				t.Errorf("entryHead() = %d, %q, %v; want 42, %q", seq, ids, err, e.CameraIDs)
			}
		})
	}
}

// A migrated row is read strictly: anything the database's JSON functions could read
// differently from Verify is refused.
func TestDecodeLegacyStrict(t *testing.T) {
	good := `{"v":1,"seq":1,"camera_ids":"[]","at":2,"user_id":"u","username":"n","role":"r","organisation_id":"o",` +
		`"client_addr":"c","action":"login","range_from":0,"range_to":0,"reference":"","purpose":"","outcome":"allowed",` +
		`"reason":"","detail":"{}"}`
	if _, err := decodeLegacy([]byte(good)); err != nil {
		t.Fatalf("decodeLegacy(good) = %v", err)
	}
	tests := []struct{ name, data string }{
		{"repeated key", strings.Replace(good, `"user_id":"u"`, `"user_id":"x","user_id":"u"`, 1)},
		{"escaped key", strings.Replace(good, `"user_id"`, `"user\u005fid"`, 1)},
		{"other case", strings.Replace(good, `"user_id"`, `"User_id"`, 1)},
		{"unknown key", strings.Replace(good, `"v":1,`, `"v":1,"x":1,`, 1)},
		{"missing key", strings.Replace(good, `"role":"r",`, ``, 1)},
		{"null", strings.Replace(good, `"role":"r"`, `"role":null`, 1)},
		{"number as string", strings.Replace(good, `"at":2`, `"at":"2"`, 1)},
		{"fraction", strings.Replace(good, `"at":2`, `"at":2.5`, 1)},
		{"trailing data", good + `{}`},
		{"unquoted key (JSON5)", strings.Replace(good, `"role":"r"`, `role:"r"`, 1)},
		{"other layout", strings.Replace(good, `"v":1`, `"v":3`, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if f, err := decodeLegacy([]byte(tt.data)); err == nil {
				t.Errorf("decodeLegacy(%s) = %+v, nil; want an error", tt.data, f)
			}
		})
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
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("Validate() = %v; want it to wrap ErrInvalid", err)
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

func TestEntryHeadCameraIDs(t *testing.T) {
	for _, ids := range [][]string{
		{"cam-1"}, {"a", "b", "c"}, {`a","b`}, {`quote"inside`}, {`back\slash`}, {"comma,inside", "x"}, {"<&>"}, {""}, {"", ""}, {"ünï", "日本"},
	} {
		enc := Entry{Seq: 7, CameraIDs: ids}.Encode(nil)
		seq, got, err := entryHead(enc)
		if err != nil || seq != 7 || strings.Join(got, "\x00") != strings.Join(ids, "\x00") || len(got) != len(ids) {
			t.Errorf("entryHead(%s) = %d, %q, %v; want 7, %q", enc, seq, got, err, ids)
		}
	}
	for _, bad := range []string{
		`{"v":2,"seq":7,"camera_ids":["a"`, `{"v":2,"seq":7,"camera_ids":[1]}`, `{"v":2,"seq":7,"camera_ids":["a",]}`,
		`{"v":2,"seq":07,"camera_ids":[]}`, `{"v":2,"seq":-7,"camera_ids":[]}`, `{"v":2,"seq":7,"cameras":[]}`,
		`{"v":3,"seq":7,"camera_ids":[]}`, `{"v":2, "seq":7,"camera_ids":[]}`, ``,
	} {
		if seq, got, err := entryHead([]byte(bad)); err == nil {
			t.Errorf("entryHead(%s) = %d, %q, nil; want an error", bad, seq, got)
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
func (m *memSource) ScanTraceCameras(ctx context.Context, from, to int64, fn func(int64, []byte) error) error {
	for _, c := range m.cams {
		if seq := c[0].(int64); seq >= from && seq < to {
			if err := fn(seq, []byte(c[1].(string))); err != nil {
				return err
			}
		}
	}
	return nil
}

func newMemTrail(t *testing.T, n int) *memSource {
	t.Helper()
	m := &memSource{}
	rng := rangeFactory.NewEmptyRange(0)
	var chain []byte
	for i := range n {
		e := Entry{Seq: int64(i), Time: time.Unix(int64(i), 0), Action: ActionLiveView, Outcome: Allowed,
			CameraIDs: []string{"cam-" + strconv.Itoa(i%3)}}
		r := NewRow(e)
		rng.Append(r.LeafHash, nil)
		r.Chain = ChainHash(chain, r.LeafHash)
		chain = r.Chain
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
	edit := func(m *memSource, i int) {
		m.rows[i].Data = bytes.Replace(m.rows[i].Data, []byte(`"live_view"`), []byte(`"playback"`), 1)
	}
	tests := []struct {
		name     string
		tamper   func(m *memSource)
		firstBad int64
	}{
		{"untouched", func(*memSource) {}, -1},
		{"chain edited in a later chunk", func(m *memSource) { m.rows[50].Chain = m.rows[49].Chain }, 50},
		{"chain edited at a chunk's start", func(m *memSource) { m.rows[49].Chain = m.rows[48].Chain }, 49},
		{"chain edited at a chunk's end", func(m *memSource) { m.rows[48].Chain = m.rows[47].Chain }, 48},
		{"chain edited, a later entry deleted", func(m *memSource) { m.rows[30].Chain = m.rows[29].Chain; del(40)(m) }, 30},
		{"leaf edited, a later chain edited", func(m *memSource) { edit(m, 30); m.rows[45].Chain = m.rows[44].Chain }, 30},
		{"chain edited, a later leaf edited", func(m *memSource) { edit(m, 45); m.rows[30].Chain = m.rows[29].Chain }, 30},
		{"chain cut short", func(m *memSource) { m.rows[30].Chain = m.rows[30].Chain[:31] }, 30},
		{"first entry's chain edited", func(m *memSource) { m.rows[0].Chain = m.rows[1].Chain }, 0},
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

// TestDerivedOrigin checks that a key made for a host is named host/trace/<hash of its public
// key>, so that two installations on one host differ; that it signs checkpoints which open with
// its verifier key; and which origins count as shared.
func TestDerivedOrigin(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadOrCreateDerivedKey(filepath.Join(dir, "a.key"), "cctv.zhuzhou.example.cn")
	if err != nil {
		t.Fatalf("LoadOrCreateDerivedKey = %v", err)
	}
	k2, err := LoadOrCreateDerivedKey(filepath.Join(dir, "b.key"), "cctv.zhuzhou.example.cn")
	if err != nil {
		t.Fatalf("LoadOrCreateDerivedKey = %v", err)
	}
	if want := DerivedOrigin("cctv.zhuzhou.example.cn", k1.public); k1.Name() != want || !strings.HasPrefix(want, "cctv.zhuzhou.example.cn/trace/") {
		t.Errorf("Name() = %q; want %q", k1.Name(), want)
	}
	if k1.Name() == k2.Name() {
		t.Errorf("two installations on one host both got origin %q; want different origins", k1.Name())
	}
	again, err := LoadOrCreateDerivedKey(filepath.Join(dir, "a.key"), "other.host")
	if err != nil || again.Name() != k1.Name() || again.VerifierKey() != k1.VerifierKey() {
		t.Errorf("reloaded key = %v, %v; want the stored key named %q", again, err, k1.Name())
	}
	msg, err := SignCheckpoint(k1, 3, bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	if c, err := OpenCheckpoint(msg, k1.VerifierKey()); err != nil || c.Origin != k1.Name() {
		t.Errorf("OpenCheckpoint(derived key's checkpoint) = %+v, %v; want origin %q", c, err, k1.Name())
	}
	if _, _, err := GenerateDerivedKey("a/b"); err == nil {
		t.Errorf("GenerateDerivedKey(%q) = nil error; want refused", "a/b")
	}

	named := func(name string) *Key {
		k, _, err := GenerateKey(name)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	local, _, err := GenerateDerivedKey("civicam")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  *Key
		want bool
	}{
		{"old default", named(LegacyOrigin), true},
		{"localhost", named("localhost/trace"), true},
		{"a .local host", named("cams.local/trail"), true},
		{"example.com", named("example.com/trace"), true},
		{"an address", named("127.0.0.1:8080/trace"), true},
		{"a bare word", named("civicam/trace"), true},
		{"a city's domain", named("cctv.zhuzhou.gov.cn/trace"), false},
		{"derived", k1, false},
		{"derived without public_url", local, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.key.OriginShared(); got != tt.want {
				t.Errorf("Key(%q).OriginShared() = %v; want %v", tt.key.Name(), got, tt.want)
			}
		})
	}
}
