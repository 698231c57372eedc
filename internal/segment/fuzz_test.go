package segment_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"civicam/internal/fuzzbound"
	"civicam/internal/segment"
)

// update rewrites the checked-in seed corpora under testdata/fuzz from the project's own writer.
var update = flag.Bool("update", false, "rewrite the fuzz seed corpora in testdata/fuzz")

// smallSamples is one part of n tiny frames, the first a keyframe with its parameter sets: small
// enough that the fuzzer spends its time on the boxes, not on copying payload.
func smallSamples(n int) []segment.Sample {
	var samples []segment.Sample
	for i := range n {
		nalus := [][]byte{nalu(0x01, 6)}
		if i == 0 {
			nalus = [][]byte{nalu(0x67, 8), nalu(0x68, 4), nalu(0x65, 12)}
		}
		samples = append(samples, segment.Sample{Duration: 3600, NonSync: i != 0, NALUs: nalus})
	}
	return samples
}

// scanSeeds are real segments from the writer, whole and cut where a crash cuts them.
func scanSeeds(t testing.TB) map[string][]byte {
	root := t.TempDir()
	d := segment.NewDisk(root)
	f, err := d.Create("seed.mp4")
	if err != nil {
		t.Fatal(err)
	}
	w, err := segment.NewWriter(f, testInit())
	if err != nil {
		t.Fatal(err)
	}
	ends := []int64{w.Size()}
	for i := range 3 {
		if err := w.WritePart(uint64(i)*3*3600, smallSamples(3)); err != nil {
			t.Fatal(err)
		}
		ends = append(ends, w.Size())
	}
	// A part left open by a crash: samples written behind the placeholder, no moof yet.
	for _, s := range smallSamples(2) {
		if err := w.WriteSample(s); err != nil {
			t.Fatal(err)
		}
	}
	open, err := os.ReadFile(filepath.Join(root, "seed.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.EndPart(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(filepath.Join(root, "seed.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		"whole":          whole,
		"open-part":      open,
		"cut-in-moof":    whole[:ends[2]+30],
		"cut-in-mdat":    whole[:ends[3]-5],
		"init-only":      whole[:ends[0]],
		"cut-in-init":    whole[:ends[0]-7],
		"zeros-after":    append(bytes.Clone(whole[:ends[1]]), make([]byte, 64)...),
		"garbage-after":  append(bytes.Clone(whole[:ends[1]]), "\x00\x00\x00\x10junkjunkjunk"...),
		"one-part":       whole[:ends[1]],
		"large-box-size": append(bytes.Clone(whole[:ends[1]]), "\x00\x00\x00\x01moof\x00\x00\x00\x00\x00\x00\x00\x20"...),
	}
}

// TestWriteFuzzSeeds rewrites testdata/fuzz/FuzzScan and FuzzRepair with -update; the fuzz target's replay in
// every test run then starts from real segments.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite the seed corpus")
	}
	seeds := scanSeeds(t)
	for _, target := range []string{"FuzzScan", "FuzzRepair"} {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range seeds {
			if err := os.WriteFile(filepath.Join(dir, "seed-"+name), fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// FuzzScan feeds Scan damaged segments: it must never panic; what it accepts must account for
// every byte, with parts laid end to end from the init, and the complete content scanning again
// as exactly that, nothing trailing. Its seeds are the checked-in corpus (TestWriteFuzzSeeds).
func FuzzScan(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		start := time.Now()
		checkScan(t, b)
		fuzzbound.Check(t, start, "Scan", len(b))
	})
}

// FuzzRepair feeds Repair damaged segment files: it cuts a file to the complete content Scan
// finds and no further, and leaves alone a file without an init. It is apart from FuzzScan
// because a file per input runs a hundred times slower than Scan in memory.
func FuzzRepair(f *testing.F) {
	d := segment.NewDisk(f.TempDir())
	f.Fuzz(func(t *testing.T, b []byte) {
		start := time.Now()
		in := checkScan(t, b)
		p, _ := d.Path("f.mp4")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		rep, rerr := d.Repair("f.mp4")
		after, _ := os.ReadFile(p)
		switch {
		case in == nil:
			if rerr == nil || !bytes.Equal(after, b) {
				t.Fatalf("Repair of a file Scan refuses = %v, file %d of %d bytes; want an error and the file untouched", rerr, len(after), len(b))
			}
		case rerr != nil || rep.Size != in.Size || rep.Trailing != 0 || len(rep.Parts) != len(in.Parts) || rep.SHA256 != in.SHA256:
			t.Fatalf("Repair = %+v, %v; want the %d parts and %d bytes Scan found", rep, rerr, len(in.Parts), in.Size)
		case !bytes.Equal(after, b[:in.Size]):
			t.Fatalf("file after Repair is %d bytes; want the first %d of the input", len(after), in.Size)
		}
		fuzzbound.Check(t, start, "Repair", len(b))
	})
}

// checkScan scans b and checks what Scan promises of its result, which it returns (nil when
// Scan refuses b).
func checkScan(t *testing.T, b []byte) *segment.Info {
	in, err := segment.Scan(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		if !errors.Is(err, segment.ErrNoInit) {
			t.Fatalf("Scan = %v; want nil or ErrNoInit", err)
		}
		return nil
	}
	if in.Size+in.Trailing != int64(len(b)) {
		t.Fatalf("Scan: size %d + trailing %d != %d bytes", in.Size, in.Trailing, len(b))
	}
	if (in.Trailing == 0) != (in.TrailingErr == nil) {
		t.Fatalf("Scan: trailing %d bytes with reason %v", in.Trailing, in.TrailingErr)
	}
	end := in.InitSize
	for i, p := range in.Parts {
		if p.Offset != end || p.Size <= 0 || p.Samples <= 0 {
			t.Fatalf("Scan part %d = %+v; want it to start at %d", i, p, end)
		}
		end += p.Size
	}
	if end != in.Size {
		t.Fatalf("Scan: parts end at %d; size %d", end, in.Size)
	}
	in.Duration()
	if err := in.Complete(); err == nil && (len(in.Parts) == 0 || !in.Parts[0].Sync) {
		t.Fatalf("Complete() = nil on %+v", in)
	}
	again, err := segment.Scan(bytes.NewReader(b[:in.Size]), in.Size)
	if err != nil || again.Trailing != 0 || len(again.Parts) != len(in.Parts) || again.SHA256 != in.SHA256 {
		t.Fatalf("Scan of the complete prefix = %+v, %v; want the same %d parts, nothing trailing", again, err, len(in.Parts))
	}
	return in
}
