package export_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"civicam/internal/export"
	"civicam/internal/fuzzbound"
	"civicam/internal/playback"
	"civicam/internal/segment"
	"civicam/internal/segment/segmenttest"
)

// update rewrites the checked-in seed corpora under testdata/fuzz from the project's own writers.
var update = flag.Bool("update", false, "rewrite the fuzz seed corpora in testdata/fuzz")

const fuzzCam = "cam-fuzz"

var fuzzStart = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// fuzzKey is a signing key made from a fixed seed, so that the checked-in exports verify in
// every run. It signs nothing but this test's exports.
func fuzzKey(t testing.TB) (note.Signer, string) {
	skey, vkey, err := note.GenerateKey(rand.NewChaCha8([32]byte{'c', 'i', 'v', 'i', 'c', 'a', 'm', '-', 'f', 'u', 'z', 'z'}), "fuzz.civicam/export")
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s, vkey
}

// tinyExport records, with the recorder's writer, a segment of parts of three tiny frames and
// exports it with the service: a real export of a few kilobytes.
func tinyExport(t testing.TB, parts int) (zipBytes, video []byte, m *export.Manifest) {
	d := segment.NewDisk(t.TempDir())
	rec := segmenttest.Tiny(t, d, fuzzCam, fuzzStart, parts)
	plan, err := playback.New(playback.Config{}, playback.Deps{Index: segmenttest.One{Rec: rec}, Files: d}).Plan(context.Background(), fuzzCam, rec.Start, rec.End)
	if err != nil {
		t.Fatal(err)
	}
	defer plan.Close()
	var mp4 bytes.Buffer
	if _, err := plan.WriteTo(&mp4); err != nil {
		t.Fatal(err)
	}
	signer, vkey := fuzzKey(t)
	dir := t.TempDir()
	svc := export.New(export.Config{Dir: dir}, export.Deps{Files: d, Key: export.Signer{Signer: signer, Verifier: vkey}})
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", parts)
	m, err = svc.Create(context.Background(), plan, export.Manifest{ID: id, CameraID: fuzzCam, Purpose: "incident review", CaseRef: "CASE-1",
		Exporter: export.Exporter{UserID: "u1", Username: "op"}, CreatedAt: fuzzStart.Add(time.Hour), TraceSeq: 42})
	if err != nil {
		t.Fatal(err)
	}
	zipBytes, err = os.ReadFile(filepath.Join(dir, id+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	return zipBytes, mp4.Bytes(), m
}

// verifySeeds are real exports and exports altered as a forger would.
func verifySeeds(t testing.TB) map[string][]byte {
	one, _, _ := tinyExport(t, 1)
	three, _, _ := tinyExport(t, 3)
	reorder := rezipTB(t, three, export.ManifestName, func(b []byte) []byte { return bytes.Replace(b, []byte(`"seq": 1`), []byte(`"seq": 2`), 1) })
	return map[string][]byte{
		"one-part":          one,
		"three-parts":       three,
		"manifest-altered":  reorder,
		"video-cut":         rezipTB(t, three, export.VideoName, func(b []byte) []byte { return b[:len(b)-40] }),
		"signature-dropped": rezipTB(t, three, export.SignatureName, func([]byte) []byte { return nil }),
		"truncated":         three[:len(three)-30],
	}
}

// rezipTB rebuilds a zip with one entry's content changed.
func rezipTB(t testing.TB, z []byte, name string, change func([]byte) []byte) []byte {
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
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: f.Method, Modified: f.Modified})
		w.Write(b)
	}
	zw.Close()
	return out.Bytes()
}

// TestWriteFuzzSeeds rewrites testdata/fuzz/FuzzVerify with -update.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzVerify")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range verifySeeds(t) {
		if err := os.WriteFile(filepath.Join(dir, "seed-"+name), fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzVerify feeds Verify altered exports. It must not panic and must answer within the bound;
// it refuses with a non-empty Problems; and what it accepts holds exactly what the exporter
// signed: the manifest of one of the exports made here and, where the zip says the video
// lies, that export's MP4 byte for byte. The key never signed anything else, so any other
// accepted zip is a forgery Verify let through.
func FuzzVerify(f *testing.F) {
	_, vkey := fuzzKey(f)
	type known struct {
		video []byte
		m     *export.Manifest
	}
	signed := map[string]known{}
	for _, parts := range []int{1, 3} {
		z, video, m := tinyExport(f, parts)
		if _, err := export.Verify(bytes.NewReader(z), int64(len(z)), vkey); err != nil {
			f.Fatalf("Verify(the export of %d parts) = %v", parts, err)
		}
		signed[m.ID] = known{video, m}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		start := time.Now()
		m, err := export.Verify(bytes.NewReader(b), int64(len(b)), vkey)
		fuzzbound.Check(t, start, "Verify", len(b))
		if err != nil {
			var probs export.Problems
			if !errors.As(err, &probs) || len(probs) == 0 {
				t.Fatalf("Verify = %T %v; want non-empty Problems", err, err)
			}
			return
		}
		if m == nil {
			t.Fatal("Verify = nil manifest, nil error")
		}
		k, ok := signed[m.ID]
		if !ok || !reflect.DeepEqual(m, k.m) {
			t.Fatalf("Verify accepted manifest %+v; the key signed only %v", m, signed)
		}
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("Verify accepted a zip archive/zip cannot read: %v", err)
		}
		var video []byte
		for _, zf := range zr.File {
			if zf.Name != export.VideoName {
				continue
			}
			off, err := zf.DataOffset()
			if err != nil {
				t.Fatalf("accepted %s: DataOffset = %v", export.VideoName, err)
			}
			video = b[off : off+int64(zf.UncompressedSize64)]
		}
		if !bytes.Equal(video, k.video) {
			t.Fatalf("Verify accepted a video of %d bytes differing from the %d bytes exported", len(video), len(k.video))
		}
	})
}
