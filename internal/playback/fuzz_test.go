package playback

import (
	"bytes"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"civicam/internal/fuzzbound"
	"civicam/internal/segment"
	"civicam/internal/segment/segmenttest"
)

// update rewrites the checked-in seed corpora under testdata/fuzz from the project's own writers.
var update = flag.Bool("update", false, "rewrite the fuzz seed corpora in testdata/fuzz")

const fuzzCam = "cam-fuzz"

var fuzzStart = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// fragmentSeeds are a real segment and the MP4 playback builds of it, whole and damaged.
func fragmentSeeds(t testing.TB) map[string][]byte {
	d := segment.NewDisk(t.TempDir())
	rec := segmenttest.Tiny(t, d, fuzzCam, fuzzStart, 3)
	seg, err := os.ReadFile(mustPath(t, d, rec.Path))
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Config{}, Deps{Index: segmenttest.One{Rec: rec}, Files: d}).Plan(context.Background(), fuzzCam, rec.Start, rec.End)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var mp4 bytes.Buffer
	if _, err := p.WriteTo(&mp4); err != nil {
		t.Fatal(err)
	}
	out := mp4.Bytes()
	firstMoof := p.Fragments[0].Offset
	box := func(typ string, payload ...[]byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(8+len(bytes.Join(payload, nil))))
		return append(append(b, typ...), bytes.Join(payload, nil)...)
	}
	// A trun of 2^32-1 samples with nothing per sample took 73 s to add up, 4 bytes of count
	// against a loop of that many steps (found by review, caught by the bound when fuzzing).
	hugeTrun := append(box("ftyp"), box("moov")...)
	hugeTrun = append(hugeTrun, box("moof", box("mfhd", make([]byte, 8)), box("traf", box("tfhd", []byte{0, 2, 0, 0, 0, 0, 0, 1}),
		box("tfdt", make([]byte, 8)), box("trun", []byte{0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})))...)
	hugeTrun = append(hugeTrun, box("mdat", []byte{0})...)
	return map[string][]byte{
		"regression-huge-trun-count": hugeTrun,
		"segment":                    seg,
		"playback":                   out,
		"playback-cut":               out[:len(out)-3],
		"playback-header":            out[:firstMoof],
		"segment-cut":                seg[:len(seg)-10],
	}
}

func mustPath(t testing.TB, d *segment.Disk, key string) string {
	p, err := d.Path(key)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestWriteFuzzSeeds rewrites testdata/fuzz/FuzzFragments with -update.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzFragments")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range fragmentSeeds(t) {
		file := "seed-" + name
		if strings.HasPrefix(name, "regression-") {
			file = name
		}
		if err := os.WriteFile(filepath.Join(dir, file), fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzFragments feeds the fragment parser damaged MP4s, as served MP4s (Inspect, which export
// verification uses) and as recorded segments (what Plan reads). Nothing may panic; what Inspect
// accepts is laid end to end to the last byte, and rewriting a fragment's sequence number and
// decode time then parsing it again gives the new values with all else unchanged; a segment
// Plan accepts gives an MP4 that Inspect reads back as the plan's fragments, as one stream.
func FuzzFragments(f *testing.F) {
	d := segment.NewDisk(f.TempDir())
	key, err := segment.Key(fuzzCam, fuzzStart)
	if err != nil {
		f.Fatal(err)
	}
	path := mustPath(f, d, key)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		start := time.Now()
		checkInspect(t, b)

		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		rec := segment.Record{CameraID: fuzzCam, Path: key, Start: fuzzStart, End: fuzzStart.Add(time.Hour), Bytes: int64(len(b)), Sealed: true}
		p, err := New(Config{}, Deps{Index: segmenttest.One{Rec: rec}, Files: d}).Plan(context.Background(), fuzzCam, rec.Start, rec.End)
		if err == nil {
			var out bytes.Buffer
			if n, err := p.WriteTo(&out); err != nil || n != p.Size {
				t.Fatalf("Plan.WriteTo = %d, %v; want %d bytes", n, err, p.Size)
			}
			p.Close()
			file, err := Inspect(bytes.NewReader(out.Bytes()), int64(out.Len()))
			if err != nil {
				t.Fatalf("Inspect(Plan's MP4) = %v", err)
			}
			if err := file.Check(); err != nil || len(file.Fragments) != len(p.Fragments) {
				t.Fatalf("Plan's MP4: %d fragments, Check() = %v; want the plan's %d, nil", len(file.Fragments), err, len(p.Fragments))
			}
		}
		fuzzbound.Check(t, start, "parsing", len(b))
	})
}

func checkInspect(t *testing.T, b []byte) {
	file, err := Inspect(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return
	}
	end := file.HeaderSize
	for i, fr := range file.Fragments {
		if fr.Offset != end || fr.MoofSize < 8 || fr.Size < fr.MoofSize+fr.MdatHdr || fr.Samples < 1 {
			t.Fatalf("Inspect fragment %d = %+v; want it to start at %d", i, fr, end)
		}
		end += fr.Size
	}
	if end != int64(len(b)) {
		t.Fatalf("Inspect: fragments end at %d of %d bytes", end, len(b))
	}
	if err := file.Check(); err == nil {
		for i, fr := range file.Fragments {
			if fr.Seq != uint32(i+1) || !file.Fragments[0].Sync {
				t.Fatalf("Check() = nil; fragment %d = %+v", i, fr)
			}
		}
	}
	for i, fr := range file.Fragments {
		_, head, err := readFragment(bytes.NewReader(b), fr.Offset, int64(len(b)))
		if err != nil {
			t.Fatalf("readFragment(%d) = %v; Inspect read it", fr.Offset, err)
		}
		seq, base := fr.Seq^0x5a5a5a5a, fr.BaseTime^0x55
		if err := fr.patch(head, seq, base); err != nil {
			if fr.tfdtLarge || base <= 0xffffffff {
				t.Fatalf("fragment %d patch(%d, %d) = %v", i, seq, base, err)
			}
			continue
		}
		again, err := parseMoof(head[:fr.MoofSize])
		if err != nil {
			t.Fatalf("fragment %d: parseMoof after patch = %v", i, err)
		}
		if again.Seq != seq || again.BaseTime != base || again.Duration != fr.Duration || again.Samples != fr.Samples || again.Sync != fr.Sync {
			t.Fatalf("fragment %d after patch(%d, %d) = %+v; was %+v", i, seq, base, again, fr)
		}
	}
}
