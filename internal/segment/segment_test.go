package segment_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"

	"civicam/internal/segment"
)

// A 1920x1080 baseline SPS; the samples below are not decodable pictures, which Scan does not
// need, only well-formed length-prefixed NAL units.
var testSPS = []byte{
	0x67, 0x42, 0xc0, 0x28, 0xd9, 0x00, 0x78, 0x02,
	0x27, 0xe5, 0x84, 0x00, 0x00, 0x03, 0x00, 0x04,
	0x00, 0x00, 0x03, 0x00, 0xf0, 0x3c, 0x60, 0xc9,
	0x20,
}

func testInit() *fmp4.Init {
	return &fmp4.Init{Tracks: []*fmp4.InitTrack{{ID: 1, TimeScale: segment.TimeScale,
		Codec: &fmp4.CodecH264{SPS: testSPS, PPS: []byte{0x68, 0xce, 0x3c, 0x80}}}}}
}

// nalu returns one NAL unit of n bytes.
func nalu(typ byte, n int) []byte {
	b := make([]byte, n)
	b[0] = typ
	return b
}

// testSamples is 25 frames of 3600 ticks (1 s at 25 fps), the first a keyframe.
func testSamples() []segment.Sample {
	var samples []segment.Sample
	for i := range 25 {
		nalus := [][]byte{nalu(0x01, 300)}
		if i == 0 {
			nalus = [][]byte{nalu(0x67, 20), nalu(0x68, 4), nalu(0x65, 2000)}
		}
		samples = append(samples, segment.Sample{Duration: 3600, NonSync: i != 0, NALUs: nalus})
	}
	return samples
}

// writeSegment writes an init and n parts through a Disk and returns the key and the offsets at
// which each part ends.
func writeSegment(t *testing.T, d *segment.Disk, key string, n int) (ends []int64, sum string) {
	t.Helper()
	return writeSegmentTB(t, d, key, n)
}

func writeSegmentTB(t testing.TB, d *segment.Disk, key string, n int) (ends []int64, sum string) {
	t.Helper()
	f, err := d.Create(key)
	if err != nil {
		t.Fatalf("Create(%s) = %v", key, err)
	}
	w, err := segment.NewWriter(f, testInit())
	if err != nil {
		t.Fatalf("NewWriter = %v", err)
	}
	ends = append(ends, w.Size())
	for i := range n {
		if err := w.WritePart(uint64(i)*90000, testSamples()); err != nil {
			t.Fatalf("WritePart(%d) = %v", i, err)
		}
		ends = append(ends, w.Size())
	}
	sum, size, err := w.Close()
	if err != nil || size != ends[n] {
		t.Fatalf("Close() = %d, %v; want %d, nil", size, err, ends[n])
	}
	return ends, sum
}

func TestWriteScan(t *testing.T) {
	d := segment.NewDisk(t.TempDir())
	key, err := segment.Key("cam-1", time.Date(2026, 11, 30, 9, 1, 2, 345678000, time.UTC))
	if err != nil {
		t.Fatalf("Key = %v", err)
	}
	if want := "cam-1/2026-11-30/090102.345678.mp4"; key != want {
		t.Errorf("Key = %q; want %q", key, want)
	}
	ends, sum := writeSegment(t, d, key, 3)
	in, err := d.Scan(key)
	if err != nil {
		t.Fatalf("Scan = %v", err)
	}
	if err := in.Complete(); err != nil {
		t.Errorf("Complete() = %v; want nil", err)
	}
	if len(in.Parts) != 3 || in.Size != ends[3] || in.InitSize != ends[0] {
		t.Errorf("Scan = %d parts, size %d, init %d; want 3, %d, %d", len(in.Parts), in.Size, in.InitSize, ends[3], ends[0])
	}
	if in.Duration() != 3*time.Second {
		t.Errorf("Duration() = %v; want 3s", in.Duration())
	}
	if in.SHA256 != sum {
		t.Errorf("Scan SHA256 = %s; writer's = %s", in.SHA256, sum)
	}
	for i, p := range in.Parts {
		if p.Offset != ends[i] || !p.Sync || p.Samples != 25 || p.BaseTime != uint64(i)*90000 {
			t.Errorf("part %d = %+v; want offset %d, sync, 25 samples, base %d", i, p, ends[i], i*90000)
		}
	}
}

func TestKeyRejectsUnsafeCameraIDs(t *testing.T) {
	for _, id := range []string{"", "..", ".hidden", "a/b", `a\b`, "cam 1"} {
		if _, err := segment.Key(id, time.Now()); !errors.Is(err, segment.ErrBadCameraID) {
			t.Errorf("Key(%q) = %v; want ErrBadCameraID", id, err)
		}
	}
	d := segment.NewDisk(t.TempDir())
	for _, key := range []string{"../x.mp4", "/abs.mp4", "a/../../x.mp4", ""} {
		if _, err := d.Path(key); err == nil {
			t.Errorf("Path(%q) = nil error; want refusal", key)
		}
	}
}

func TestRepair(t *testing.T) {
	root := t.TempDir()
	d := segment.NewDisk(root)
	ends, _ := writeSegment(t, d, "ref/whole.mp4", 3)
	whole, err := os.ReadFile(filepath.Join(root, "ref/whole.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		content   []byte
		wantParts int
		wantErr   error
	}{
		{"whole", whole, 3, nil},
		{"cut inside the last mdat", whole[:ends[3]-100], 2, nil},
		{"cut inside the last moof", whole[:ends[2]+20], 2, nil},
		{"cut inside a box header", whole[:ends[2]+5], 2, nil},
		{"cut at a part boundary", whole[:ends[2]], 2, nil},
		{"zeros after the last part", append(bytes.Clone(whole[:ends[1]]), make([]byte, 4096)...), 1, nil},
		{"garbage after the last part", append(bytes.Clone(whole[:ends[1]]), []byte("\x00\x00\x00\x10junkjunkjunk")...), 1, nil},
		{"init only", whole[:ends[0]], 0, nil},
		{"cut inside the init", whole[:ends[0]-10], 0, segment.ErrNoInit},
		{"empty", nil, 0, segment.ErrNoInit},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := filepath.ToSlash(filepath.Join("cam", string(rune('a'+i))+".mp4"))
			p, _ := d.Path(key)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, tc.content, 0o644); err != nil {
				t.Fatal(err)
			}
			in, err := d.Repair(key)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Repair = %v; want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Repair = %v", err)
			}
			if len(in.Parts) != tc.wantParts || in.Size != ends[tc.wantParts] {
				t.Errorf("Repair = %d parts, %d bytes; want %d, %d", len(in.Parts), in.Size, tc.wantParts, ends[tc.wantParts])
			}
			after, _ := os.ReadFile(p)
			if !bytes.Equal(after, whole[:ends[tc.wantParts]]) {
				t.Errorf("file after Repair is %d bytes, not the first %d of the original", len(after), ends[tc.wantParts])
			}
			h := sha256.Sum256(after)
			if in.SHA256 != hex.EncodeToString(h[:]) {
				t.Errorf("Repair SHA256 = %s; want %x", in.SHA256, h)
			}
			again, err := d.Scan(key)
			if err != nil || again.Trailing != 0 {
				t.Errorf("Scan after Repair = trailing %v, %v; want 0, nil", again, err)
			}
			if tc.wantParts > 0 {
				if err := again.Complete(); err != nil {
					t.Errorf("Complete() after Repair = %v", err)
				}
			}
		})
	}
	if _, err := d.Repair("cam/missing.mp4"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Repair(missing) = %v; want fs.ErrNotExist", err)
	}
}

func TestScanStrict(t *testing.T) {
	root := t.TempDir()
	d := segment.NewDisk(root)
	ends, _ := writeSegment(t, d, "ref/whole.mp4", 3)
	whole, _ := os.ReadFile(filepath.Join(root, "ref/whole.mp4"))
	gap := bytes.Clone(whole)
	// Move part 2's tfdt forward: the part is still well formed, but a hole opens before it.
	tfdt := bytes.Index(gap[ends[1]:], []byte("tfdt"))
	gap[ends[1]+int64(tfdt)+4+4+7]++ // version 1: 4 bytes of flags, then a 64-bit time
	in, err := segment.Scan(bytes.NewReader(gap), int64(len(gap)))
	if err != nil {
		t.Fatalf("Scan = %v", err)
	}
	if err := in.Continuous(); err == nil {
		t.Errorf("Continuous() = nil on a segment with a hole; want an error")
	}
	// A sample size that no longer matches the mdat makes the part, and all after it, trailing.
	bad := bytes.Clone(whole)
	bad[ends[2]-1] = 0 // last payload byte: harmless
	mdat := bytes.Index(bad[ends[1]:], []byte("mdat"))
	bad[ends[1]+int64(mdat)-1]-- // mdat size one short
	in, err = segment.Scan(bytes.NewReader(bad), int64(len(bad)))
	if err != nil {
		t.Fatalf("Scan = %v", err)
	}
	if len(in.Parts) != 1 || in.Complete() == nil {
		t.Errorf("Scan of a corrupt part 2 = %d parts, Complete() %v; want 1 part and an error", len(in.Parts), in.Complete())
	}
}

// TestPartRoundTrip checks the part writer against mediacommon's reader: every sample's timing,
// flags and bytes come back as written, negative composition offsets included.
func TestPartRoundTrip(t *testing.T) {
	root := t.TempDir()
	d := segment.NewDisk(root)
	f, err := d.Create("rt.mp4")
	if err != nil {
		t.Fatal(err)
	}
	w, err := segment.NewWriter(f, testInit())
	if err != nil {
		t.Fatal(err)
	}
	want := []segment.Sample{
		{Duration: 3000, PTSOffset: 6000, NALUs: [][]byte{nalu(0x06, 3), nalu(0x65, 50)}},
		{Duration: 3003, PTSOffset: -3000, NonSync: true, NALUs: [][]byte{nalu(0x01, 7)}},
		{Duration: 2997, PTSOffset: 0, NonSync: true, NALUs: [][]byte{nalu(0x01, 300)}},
	}
	if err := w.WritePart(123456789012, want); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(root, "rt.mp4"))
	in, err := d.Scan("rt.mp4")
	if err != nil || in.Complete() != nil {
		t.Fatalf("Scan = %v, %v", in, err)
	}
	var parts fmp4.Parts
	if err := parts.Unmarshal(raw[in.InitSize:]); err != nil {
		t.Fatalf("Parts.Unmarshal = %v", err)
	}
	got := parts[0].Tracks[0]
	if parts[0].SequenceNumber != 1 || got.ID != 1 || got.BaseTime != 123456789012 || len(got.Samples) != len(want) {
		t.Fatalf("part = seq %d track %d base %d, %d samples; want 1, 1, 123456789012, %d", parts[0].SequenceNumber, got.ID, got.BaseTime, len(got.Samples), len(want))
	}
	for i, s := range got.Samples {
		w := want[i]
		avcc, _ := h264.AVCC(w.NALUs).Marshal()
		if s.Duration != w.Duration || s.PTSOffset != w.PTSOffset || s.IsNonSyncSample != w.NonSync || !bytes.Equal(s.Payload, avcc) {
			t.Errorf("sample %d = %d/%d/%v/%d bytes; want %d/%d/%v/%d bytes", i, s.Duration, s.PTSOffset, s.IsNonSyncSample, len(s.Payload),
				w.Duration, w.PTSOffset, w.NonSync, len(avcc))
		}
	}
}

// TestKillMidPart stands for a process killed while a part is being written: some of its
// samples are in the file, its moof is not. Scan must take only the complete parts, and Repair
// cut the rest.
func TestKillMidPart(t *testing.T) {
	tests := []struct {
		name    string
		parts   int // complete parts before the kill
		samples int // samples of 8 KiB of the next part given when it comes
		written bool
	}{
		{"first part, one sample (still gathered)", 0, 1, false},
		{"first part, many samples", 0, 20, true},
		{"third part, many samples", 2, 20, true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := segment.NewDisk(t.TempDir())
			key := "cam/" + string(rune('a'+i)) + ".mp4"
			f, err := d.Create(key)
			if err != nil {
				t.Fatal(err)
			}
			w, err := segment.NewWriter(f, testInit())
			if err != nil {
				t.Fatal(err)
			}
			for p := range tc.parts {
				if err := w.WritePart(uint64(p)*90000, testSamples()); err != nil {
					t.Fatal(err)
				}
			}
			complete := w.Size()
			for j := range tc.samples {
				s := segment.Sample{Duration: 3600, NonSync: j != 0, NALUs: [][]byte{nalu(0x65, 8<<10)}}
				if err := w.WriteSample(s); err != nil {
					t.Fatal(err)
				}
			}
			// The kill: the file is left as it is, never closed by the Writer.
			if got := w.Size() > complete; got != tc.written {
				t.Fatalf("Size() = %d after the samples, with %d before; want samples written: %v", w.Size(), complete, tc.written)
			}
			in, err := d.Scan(key)
			if err != nil {
				t.Fatalf("Scan = %v", err)
			}
			if len(in.Parts) != tc.parts || in.Size != complete || in.Trailing != w.Size()-complete {
				t.Errorf("Scan = %d parts, size %d, trailing %d; want %d, %d, %d", len(in.Parts), in.Size, in.Trailing, tc.parts, complete, w.Size()-complete)
			}
			in, err = d.Repair(key)
			if err != nil {
				t.Fatalf("Repair = %v", err)
			}
			if len(in.Parts) != tc.parts || in.Size != complete {
				t.Errorf("Repair = %d parts, %d bytes; want %d, %d", len(in.Parts), in.Size, tc.parts, complete)
			}
			if tc.parts > 0 {
				if err := in.Complete(); err != nil {
					t.Errorf("Complete() after Repair = %v", err)
				}
			}
		})
	}
}

// TestSampleTableFull: a part given more samples than its reserved table holds is ended early
// and the next begins where it stopped, so nothing is lost and the parts stay continuous.
func TestSampleTableFull(t *testing.T) {
	d := segment.NewDisk(t.TempDir())
	f, err := d.Create("full.mp4")
	if err != nil {
		t.Fatal(err)
	}
	w, err := segment.NewWriter(f, testInit())
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000 // 40 s at 25 fps in what the caller takes for one part
	for i := range n {
		s := segment.Sample{Duration: 3600, NonSync: i != 0, NALUs: [][]byte{nalu(0x01, 100+i)}}
		if i == 0 {
			s.NALUs = [][]byte{nalu(0x67, 20), nalu(0x68, 4), nalu(0x65, 2000)}
		}
		if err := w.WriteSample(s); err != nil {
			t.Fatalf("WriteSample(%d) = %v", i, err)
		}
	}
	if err := w.EndPart(); err != nil {
		t.Fatal(err)
	}
	sum, _, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	in, err := d.Scan("full.mp4")
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Complete(); err != nil {
		t.Errorf("Complete() = %v", err)
	}
	var samples int
	for _, p := range in.Parts {
		samples += p.Samples
	}
	if samples != n || len(in.Parts) < 2 || in.Duration() != 40*time.Second || in.SHA256 != sum {
		t.Errorf("Scan = %d samples in %d parts, %v, sum %s; want %d in several, 40s, %s", samples, len(in.Parts), in.Duration(), in.SHA256, n, sum)
	}
	if w.Parts() != len(in.Parts) {
		t.Errorf("Parts() = %d; Scan found %d", w.Parts(), len(in.Parts))
	}
}

// TestPartNotHeldInMemory writes one long part, 64 MiB of samples made fresh and dropped by the
// caller one after the other, and checks that the heap does not grow with it: the Writer must
// keep a sample's bytes no longer than the call that writes them.
func TestPartNotHeldInMemory(t *testing.T) {
	d := segment.NewDisk(t.TempDir())
	f, err := d.Create("long.mp4")
	if err != nil {
		t.Fatal(err)
	}
	w, err := segment.NewWriter(f, testInit())
	if err != nil {
		t.Fatal(err)
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	const samples, size = 1024, 64 << 10 // in parts of up to maxPartPayload (32 MiB)
	before := heap()
	var peak uint64
	for i := range samples {
		s := segment.Sample{Duration: 3600, NonSync: i != 0, NALUs: [][]byte{nalu(0x65, size)}}
		if err := w.WriteSample(s); err != nil {
			t.Fatalf("WriteSample(%d) = %v", i, err)
		}
		if i%128 == 127 {
			peak = max(peak, heap())
		}
	}
	if err := w.EndPart(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Far below the 8 MiB of samples any one check point follows, let alone the 64 MiB.
	const bound = 2 << 20
	if peak > before && peak-before > bound {
		t.Errorf("heap grew by %d bytes while writing a %d-byte part; want at most %d", peak-before, samples*size, bound)
	}
	in, err := d.Scan("long.mp4")
	if err != nil || in.Complete() != nil {
		t.Fatalf("Scan = %v, %v", in, err)
	}
}

// plainFile hides the OS file, so the Writer takes its buffer-by-buffer path instead of writev.
type plainFile struct{ segment.File }

// TestWritevAndPlainAgree: the two ways of writing a batch give the same file.
func TestWritevAndPlainAgree(t *testing.T) {
	d := segment.NewDisk(t.TempDir())
	files := map[string]func(segment.File) segment.File{
		"writev.mp4": func(f segment.File) segment.File { return f },
		"plain.mp4":  func(f segment.File) segment.File { return plainFile{f} },
	}
	sums := map[string]string{}
	for key, wrap := range files {
		f, err := d.Create(key)
		if err != nil {
			t.Fatal(err)
		}
		w, err := segment.NewWriter(wrap(f), testInit())
		if err != nil {
			t.Fatal(err)
		}
		for p := range 3 {
			for j := range 30 { // about 150 KiB a part: batches written mid-part, and a rest
				s := segment.Sample{Duration: 3000, NonSync: j != 0, NALUs: [][]byte{nalu(0x06, 7), nalu(0x65, 5000+p*100+j)}}
				if err := w.WriteSample(s); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.EndPart(); err != nil {
				t.Fatal(err)
			}
		}
		sum, _, err := w.Close()
		if err != nil {
			t.Fatal(err)
		}
		sums[key] = sum
		in, err := d.Scan(key)
		if err != nil || in.Complete() != nil || len(in.Parts) != 3 || in.SHA256 != sum {
			t.Errorf("Scan(%s) = %v, %v; want 3 complete parts with the writer's sum", key, in, err)
		}
	}
	a, _ := os.ReadFile(filepath.Join(d.Root, "writev.mp4"))
	b, _ := os.ReadFile(filepath.Join(d.Root, "plain.mp4"))
	if !bytes.Equal(a, b) || sums["writev.mp4"] != sums["plain.mp4"] {
		t.Errorf("writev and plain writes differ: %d and %d bytes", len(a), len(b))
	}
}
