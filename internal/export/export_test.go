package export_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"civicam/internal/clocktest"
	"civicam/internal/export"
	"civicam/internal/playback"
	"civicam/internal/playback/playbacktest"
	"civicam/internal/registry"
	"civicam/internal/segment"
	"civicam/internal/store/storetest"
	"civicam/internal/timespan"
	"civicam/internal/trace"
)

const cam = "3c1d9e2f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"

// makeExport records a few seconds of a simulated camera and exports them.
func makeExport(t *testing.T) (zipBytes []byte, key *trace.Key, m *export.Manifest, segs []segment.Record) {
	t.Helper()
	db := storetest.SQLite(t)
	disk := segment.NewDisk(t.TempDir())
	segs = playbacktest.Record(t, db, disk, cam, playbacktest.Options{SegmentLength: 2 * time.Second, Parts: 4})
	key, _, err := trace.GenerateKey("test.civicam/trace")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := playback.New(playback.Config{}, playback.Deps{Index: db, Files: disk}).Plan(context.Background(), cam, segs[0].Start, segs[len(segs)-1].End)
	if err != nil {
		t.Fatal(err)
	}
	defer plan.Close()
	if len(plan.Fragments) < 3 {
		t.Fatalf("plan has %d fragments; want at least 3", len(plan.Fragments))
	}
	dir := t.TempDir()
	svc := export.New(export.Config{Dir: dir}, export.Deps{Files: disk, Key: export.Signer{Signer: key.Signer(), Verifier: key.VerifierKey()}})
	id := registry.NewID()
	m, err = svc.Create(context.Background(), plan, export.Manifest{ID: id, CameraID: cam, Purpose: "incident review", CaseRef: "CASE-1",
		Exporter: export.Exporter{UserID: "u1", Username: "op"}, CreatedAt: time.Now().UTC(), TraceSeq: 42})
	if err != nil {
		t.Fatalf("Create = %v", err)
	}
	meta, f, err := svc.Open(id)
	if err != nil {
		t.Fatalf("Open(%s) = %v", id, err)
	}
	defer f.Close()
	if meta.Exporter.UserID != "u1" || meta.TraceSeq != 42 || !sameRange(meta.Requested, m.Requested) || meta.CaseRef != "CASE-1" {
		t.Errorf("Open meta = %+v; want exporter u1, trace seq 42, range %v, case CASE-1", meta, m.Requested)
	}
	zipBytes, _ = io.ReadAll(f)
	// An export kept before the meta held its range and case: they are read from its manifest,
	// for the download's decision needs them.
	old, _ := json.Marshal(map[string]any{"id": id, "camera_id": cam, "exporter": m.Exporter, "created_at": m.CreatedAt,
		"size": len(zipBytes), "trace_seq": 42})
	if err := os.WriteFile(filepath.Join(dir, id+".json"), old, 0o640); err != nil {
		t.Fatal(err)
	}
	if meta, f, err := svc.Open(id); err != nil {
		t.Errorf("Open(export with an old meta) = %v", err)
	} else {
		f.Close()
		if !sameRange(meta.Requested, m.Requested) || meta.CaseRef != "CASE-1" {
			t.Errorf("Open(export with an old meta) = range %v, case %q; want %v, CASE-1 from the manifest", meta.Requested, meta.CaseRef, m.Requested)
		}
	}
	if _, _, err := svc.Open(registry.NewID()); !errors.Is(err, export.ErrNotFound) {
		t.Errorf("Open(unknown) = %v; want ErrNotFound", err)
	}
	if _, _, err := svc.Open("../" + id); !errors.Is(err, export.ErrNotFound) {
		t.Errorf("Open(../id) = %v; want ErrNotFound", err)
	}
	return zipBytes, key, m, segs
}

func sameRange(a, b timespan.Range) bool { return a.Start.Equal(b.Start) && a.End.Equal(b.End) }

// rezip rebuilds a zip with one entry's content changed, as a forger would.
func rezip(t *testing.T, z []byte, name string, change func([]byte) []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name == name {
			b = change(b)
		}
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: f.Method})
		w.Write(b)
	}
	zw.Close()
	return out.Bytes()
}

func TestExportRoundTripAndTampering(t *testing.T) {
	z, key, m, segs := makeExport(t)
	got, err := export.Verify(bytes.NewReader(z), int64(len(z)), key.VerifierKey())
	if err != nil {
		t.Fatalf("Verify(untouched export) = %v", err)
	}
	if got.ID != m.ID || got.TraceSeq != 42 || got.Purpose != "incident review" || got.CaseRef != "CASE-1" || len(got.Segments) != len(segs) {
		t.Errorf("Verify manifest = %+v; want the one written, with %d segments", got, len(segs))
	}
	for i, s := range got.Segments {
		if s.SHA256 != segs[i].SHA256 {
			t.Errorf("manifest segment %d sha %s; index says %s", i, s.SHA256, segs[i].SHA256)
		}
	}
	video := func(z []byte) []byte {
		zr, _ := zip.NewReader(bytes.NewReader(z), int64(len(z)))
		rc, _ := zr.Open(export.VideoName)
		b, _ := io.ReadAll(rc)
		return b
	}(z)
	fr := m.Fragments
	frag := func(b []byte, i int) []byte { return b[fr[i].Offset : fr[i].Offset+fr[i].Size] }
	other, _, _ := trace.GenerateKey("test.civicam/trace")

	tests := []struct {
		name string
		zip  []byte
		key  string
		want string
	}{
		{"flipped byte in the MP4's samples", rezip(t, z, export.VideoName, func(b []byte) []byte {
			b[fr[1].Offset+fr[1].Size-10] ^= 0x01
			return b
		}), "", "fragment 2"},
		{"flipped byte in the MP4's header", rezip(t, z, export.VideoName, func(b []byte) []byte {
			b[40] ^= 0x01
			return b
		}), "", "SHA-256"},
		{"changed manifest", rezip(t, z, export.ManifestName, func(b []byte) []byte {
			return bytes.Replace(b, []byte("incident review"), []byte("incident reviex"), 1)
		}), "", "covers another manifest"},
		{"dropped fragment", rezip(t, z, export.VideoName, func(b []byte) []byte {
			return append(bytes.Clone(b[:fr[1].Offset]), b[fr[2].Offset:]...)
		}), "", "missing from the MP4"},
		{"dropped last fragment", rezip(t, z, export.VideoName, func(b []byte) []byte {
			return bytes.Clone(b[:fr[len(fr)-1].Offset])
		}), "", "missing from the MP4"},
		{"reordered fragments", rezip(t, z, export.VideoName, func(b []byte) []byte {
			out := bytes.Clone(b[:fr[1].Offset])
			out = append(out, frag(b, 2)...)
			out = append(out, frag(b, 1)...)
			return append(out, b[fr[3].Offset:]...)
		}), "", "reordered"},
		{"wrong key", z, other.VerifierKey(), "signature does not verify"},
		{"missing signature", func() []byte {
			var out bytes.Buffer
			zw := zip.NewWriter(&out)
			w, _ := zw.CreateHeader(&zip.FileHeader{Name: export.VideoName, Method: zip.Store})
			w.Write(video)
			zw.Close()
			return out.Bytes()
		}(), "", "missing manifest"},
		{"not a zip", []byte("hello"), "", "not a readable zip"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := tc.key
			if k == "" {
				k = key.VerifierKey()
			}
			_, err := export.Verify(bytes.NewReader(tc.zip), int64(len(tc.zip)), k)
			var probs export.Problems
			if !errors.As(err, &probs) {
				t.Fatalf("Verify = %v; want Problems", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Verify = %v; want a problem mentioning %q", err, tc.want)
			}
		})
	}
}

// TestExportCarriesItsKey (issue 16): the zip holds the platform's verifier key and a zh/en
// README, so it verifies alone; a key swapped into the zip does not verify the platform's
// signature, and checked against the platform's published key the swap is named.
func TestExportCarriesItsKey(t *testing.T) {
	z, key, _, _ := makeExport(t)
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		rc, err := zr.Open(name)
		if err != nil {
			t.Fatalf("the export has no %s: %v", name, err)
		}
		defer rc.Close()
		b, _ := io.ReadAll(rc)
		return string(b)
	}
	if got := strings.TrimSpace(read(export.KeyName)); got != key.VerifierKey() {
		t.Errorf("%s = %q; want the platform's key %q", export.KeyName, got, key.VerifierKey())
	}
	if r := read(export.ReadmeName); !strings.Contains(r, "civicam export verify") || !strings.Contains(r, "核验") {
		t.Errorf("%s = %q; want how to verify, in Chinese and English", export.ReadmeName, r)
	}
	if _, err := export.Verify(bytes.NewReader(z), int64(len(z)), ""); err != nil {
		t.Errorf("Verify(the zip alone) = %v; want nil", err)
	}
	other, _, _ := trace.GenerateKey("test.civicam/trace")
	swapped := rezip(t, z, export.KeyName, func([]byte) []byte { return []byte(other.VerifierKey() + "\n") })
	for _, tc := range []struct {
		name, key, want string
	}{
		{"alone", "", "signature does not verify"},
		{"against the published key", key.VerifierKey(), "carries the verifier key"},
	} {
		t.Run("swapped key "+tc.name, func(t *testing.T) {
			_, err := export.Verify(bytes.NewReader(swapped), int64(len(swapped)), tc.key)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Verify(swapped key, %q) = %v; want a problem mentioning %q", tc.key, err, tc.want)
			}
		})
	}
}

// TestExportRefusesChangedSource: a segment altered on disk after it was sealed is not exported
// as if it were the recording.
func TestExportRefusesChangedSource(t *testing.T) {
	db := storetest.SQLite(t)
	disk := segment.NewDisk(t.TempDir())
	segs := playbacktest.Record(t, db, disk, cam, playbacktest.Options{SegmentLength: 2 * time.Second, Parts: 2})
	p, _ := disk.Path(segs[0].Path)
	b, _ := os.ReadFile(p)
	b[len(b)-3] ^= 0xff // a sample byte: the moof boxes still parse
	if err := os.WriteFile(p, b, 0o640); err != nil {
		t.Fatal(err)
	}
	plan, err := playback.New(playback.Config{}, playback.Deps{Index: db, Files: disk}).Plan(context.Background(), cam, segs[0].Start, segs[0].End)
	if err != nil {
		t.Fatal(err)
	}
	defer plan.Close()
	key, _, _ := trace.GenerateKey("test.civicam/trace")
	svc := export.New(export.Config{Dir: t.TempDir()}, export.Deps{Files: disk, Key: export.Signer{Signer: key.Signer(), Verifier: key.VerifierKey()}})
	if _, err := svc.Create(context.Background(), plan, export.Manifest{ID: registry.NewID(), CameraID: cam}); !errors.Is(err, export.ErrSourceChanged) {
		t.Errorf("Create from an altered segment = %v; want ErrSourceChanged", err)
	}
}

// TestExportCarriesItsReceipt (issue 16): the zip holds the receipt of its own trail entry, so
// the zip alone proves the export was recorded in a trail the platform signed; a receipt of
// another entry, an edited one, or one under another key is named.
func TestExportCarriesItsReceipt(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	disk := segment.NewDisk(t.TempDir())
	segs := playbacktest.Record(t, db, disk, cam, playbacktest.Options{SegmentLength: 2 * time.Second, Parts: 2})
	key, _, _ := trace.GenerateKey("test.civicam/trace")
	clock := clocktest.Ticking(time.Now(), time.Microsecond)
	trail := trace.New(trace.Config{}, trace.Deps{Store: db, Key: key, Now: clock.Now})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- trail.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })

	id := registry.NewID()
	entry := func(action trace.Action, reason string) int64 {
		seq, err := trail.Append(ctx, trace.Entry{Time: clock.Now(), Actor: trace.Actor{UserID: "u1", Username: "op", Role: "operator"},
			Action: action, CameraIDs: []string{cam}, Outcome: trace.Allowed, Reason: reason})
		if err != nil {
			t.Fatalf("Append = %v", err)
		}
		return seq
	}
	playSeq := entry(trace.ActionPlayback, "playback")
	entry(trace.ActionPlayback, "playback again")
	seq := entry(trace.ActionExport, "export "+id)
	plan, err := playback.New(playback.Config{}, playback.Deps{Index: db, Files: disk}).Plan(ctx, cam, segs[0].Start, segs[len(segs)-1].End)
	if err != nil {
		t.Fatal(err)
	}
	defer plan.Close()
	dir := t.TempDir()
	svc := export.New(export.Config{Dir: dir}, export.Deps{Files: disk, Key: export.Signer{Signer: key.Signer(), Verifier: key.VerifierKey()}, Receipts: trail})
	if _, err := svc.Create(ctx, plan, export.Manifest{ID: id, CameraID: cam, CreatedAt: clock.Now(), TraceSeq: seq}); err != nil {
		t.Fatalf("Create = %v", err)
	}
	z, err := os.ReadFile(filepath.Join(dir, id+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := export.Verify(bytes.NewReader(z), int64(len(z)), "")
	if err != nil {
		t.Fatalf("Verify(the zip alone) = %v; want nil", err)
	}
	if m.Recorded == nil || m.Recorded.Seq != seq || m.Recorded.TreeSize != seq+1 {
		t.Fatalf("Verify().Recorded = %+v; want entry %d proven in a tree of %d", m.Recorded, seq, seq+1)
	}

	other, _, _ := trace.GenerateKey("test.civicam/trace")
	otherCP, _ := trace.SignCheckpoint(other, 1, make([]byte, 32))
	playReceipt, err := trail.Receipt(ctx, playSeq)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(*trace.Receipt)) func([]byte) []byte {
		return func(b []byte) []byte {
			var r trace.Receipt
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatal(err)
			}
			f(&r)
			out, _ := json.Marshal(r)
			return out
		}
	}
	for _, tc := range []struct {
		name   string
		change func([]byte) []byte
		want   string
	}{
		{"another entry's receipt", edit(func(r *trace.Receipt) { *r = playReceipt }), "manifest names entry"},
		{"another entry's receipt under this seq", edit(func(r *trace.Receipt) { r.Leaf = playReceipt.Leaf }), "not in the signed tree"},
		{"a checkpoint under another key", edit(func(r *trace.Receipt) { r.Checkpoint = string(otherCP) }), "trail receipt"},
		{"not JSON", func([]byte) []byte { return []byte("{") }, "not valid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forged := rezip(t, z, export.ReceiptName, tc.change)
			_, err := export.Verify(bytes.NewReader(forged), int64(len(forged)), "")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Verify(%s) = %v; want a problem mentioning %q", tc.name, err, tc.want)
			}
		})
	}
}
