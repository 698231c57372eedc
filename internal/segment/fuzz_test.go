package segment_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"civicam/internal/segment"
)

// FuzzScan feeds Scan damaged segments: it must never panic, and what it accepts must account
// for every byte, with the complete content scanning again as exactly that, nothing trailing.
func FuzzScan(f *testing.F) {
	root := f.TempDir()
	d := segment.NewDisk(root)
	ends, _ := writeSegmentTB(f, d, "seed.mp4", 2)
	whole, err := os.ReadFile(filepath.Join(root, "seed.mp4"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(whole)
	f.Add(whole[:ends[1]+30])
	f.Add(whole[:ends[0]])
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := segment.Scan(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		if in.Size+in.Trailing != int64(len(b)) {
			t.Fatalf("Scan: size %d + trailing %d != %d bytes", in.Size, in.Trailing, len(b))
		}
		again, err := segment.Scan(bytes.NewReader(b[:in.Size]), in.Size)
		if err != nil || again.Trailing != 0 || len(again.Parts) != len(in.Parts) || again.SHA256 != in.SHA256 {
			t.Fatalf("Scan of the complete prefix = %+v, %v; want the same %d parts, nothing trailing", again, err, len(in.Parts))
		}
	})
}
