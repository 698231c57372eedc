package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"civicam/internal/export"
	"civicam/internal/playback"
	"civicam/internal/playback/playbacktest"
	"civicam/internal/registry"
	"civicam/internal/segment"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// TestExportVerifyCommand: `civicam export verify` exits 0 on an untouched export, with the key
// given or read from the data directory, and 3 naming the problem on a tampered one.
func TestExportVerifyCommand(t *testing.T) {
	const cam = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"
	data := t.TempDir()
	key, err := trace.LoadOrCreateKey(filepath.Join(data, "trace.key"), "test.civicam/trace")
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.SQLite(t)
	disk := segment.NewDisk(filepath.Join(data, "recordings"))
	segs := playbacktest.Record(t, db, disk, cam, playbacktest.Options{Parts: 3})
	plan, err := playback.New(playback.Config{}, playback.Deps{Index: db, Files: disk}).Plan(context.Background(), cam, segs[0].Start, segs[len(segs)-1].End)
	if err != nil {
		t.Fatal(err)
	}
	defer plan.Close()
	svc := export.New(export.Config{Dir: filepath.Join(data, "exports")}, export.Deps{Files: disk,
		Key: export.Signer{Signer: key.Signer(), Verifier: key.VerifierKey()}})
	id := registry.NewID()
	if _, err := svc.Create(context.Background(), plan, export.Manifest{ID: id, CameraID: cam, Purpose: "p", CaseRef: "c", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(data, "exports", id+".zip")
	zb, _ := os.ReadFile(good)
	// A copy with one sample byte flipped, written as a forger would (a fresh zip).
	zr, _ := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name == export.VideoName {
			b[len(b)-5] ^= 0x80
		}
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: f.Method})
		w.Write(b)
	}
	zw.Close()
	bad := filepath.Join(t.TempDir(), "bad.zip")
	os.WriteFile(bad, out.Bytes(), 0o644)
	other, _, _ := trace.GenerateKey("test.civicam/trace")

	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"key", []string{"export", "verify", good, "--key", key.VerifierKey()}, 0, "verified"},
		{"data dir", []string{"export", "verify", "--data", data, good}, 0, "verified"},
		{"tampered", []string{"export", "verify", bad, "--key", key.VerifierKey()}, 3, "fragment"},
		{"wrong key", []string{"export", "verify", good, "--key", other.VerifierKey()}, 3, "signature does not verify"},
		// Issue 16: the zip alone verifies, with the key it carries, and says to compare that key.
		{"the key the export carries", []string{"export", "verify", good}, 0, "checked with the verifier key the export carries"},
		{"tampered, the key the export carries", []string{"export", "verify", bad}, 3, "fragment"},
		{"both key and data", []string{"export", "verify", good, "--key", key.VerifierKey(), "--data", data}, 2, ""},
		{"missing file", []string{"export", "verify", filepath.Join(data, "nope.zip"), "--data", data}, 1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}, tc.args)
			if code != tc.code || !strings.Contains(stdout.String(), tc.out) {
				t.Errorf("civicam %v = exit %d, %q (stderr %q); want exit %d mentioning %q", tc.args, code, stdout.String(), stderr.String(), tc.code, tc.out)
			}
		})
	}
}
