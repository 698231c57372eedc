package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

func testImage(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 80, 255})
		}
	}
	return img
}

func jpegBytes(t testing.TB) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testImage(16, 12), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func pngBytes(t testing.TB) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, testImage(16, 12)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withEXIF inserts an APP1 Exif segment carrying a marker string right after the JPEG's SOI, as
// a phone writes its GPS position there.
func withEXIF(j []byte, marker string) []byte {
	payload := append([]byte("Exif\x00\x00"), marker...)
	seg := []byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}
	out := append([]byte{}, j[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, j[2:]...)
}

// withTextChunk inserts a tEXt chunk (with a wrong CRC, which Go's decoder does not check for
// ancillary chunks it skips) after the PNG's IHDR.
func withTextChunk(p []byte, marker string) []byte {
	const ihdrEnd = 8 + 8 + 13 + 4
	data := append([]byte("Comment\x00"), marker...)
	chunk := []byte{0, 0, 0, byte(len(data)), 't', 'E', 'X', 't'}
	chunk = append(chunk, data...)
	chunk = append(chunk, 0, 0, 0, 0)
	out := append([]byte{}, p[:ihdrEnd]...)
	out = append(out, chunk...)
	return append(out, p[ihdrEnd:]...)
}

func TestSanitize(t *testing.T) {
	const gps = "GPSLatitude 27.83 N GPSLongitude 113.15 E"
	bomb := func() []byte { // a PNG header declaring 100,000 × 100,000 pixels
		p := pngBytes(t)
		out := append([]byte{}, p...)
		copy(out[16:24], []byte{0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0})
		binary.BigEndian.PutUint32(out[29:33], crc32.ChecksumIEEE(out[12:29]))
		return out
	}
	tests := []struct {
		name    string
		data    []byte
		max     int64
		wantCT  string
		wantErr error
	}{
		{"jpeg", jpegBytes(t), 1 << 20, JPEG, nil},
		{"png", pngBytes(t), 1 << 20, PNG, nil},
		{"jpeg with exif gps", withEXIF(jpegBytes(t), gps), 1 << 20, JPEG, nil},
		{"jpeg with a script after it", append(jpegBytes(t), []byte("<script>alert(1)</script>"+gps)...), 1 << 20, JPEG, nil},
		{"too many bytes", jpegBytes(t), 100, "", ErrTooLarge},
		{"html named .jpg", []byte("<html><script>alert(1)</script></html>"), 1 << 20, "", ErrNotPhoto},
		{"gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), 1 << 20, "", ErrNotPhoto},
		{"truncated jpeg", jpegBytes(t)[:40], 1 << 20, "", ErrNotPhoto},
		{"empty", nil, 1 << 20, "", ErrNotPhoto},
		{"decompression bomb", bomb(), 1 << 20, "", ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Sanitize(tt.data, tt.max)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Sanitize(%s) error = %v; want %v", tt.name, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if p.ContentType != tt.wantCT {
				t.Errorf("Sanitize(%s).ContentType = %q; want %q", tt.name, p.ContentType, tt.wantCT)
			}
			if bytes.Contains(p.Data, []byte("GPS")) || bytes.Contains(p.Data, []byte("script")) || bytes.Contains(p.Data, []byte("Exif")) {
				t.Errorf("Sanitize(%s) kept metadata or trailing bytes", tt.name)
			}
			if p.Width != 16 || p.Height != 12 {
				t.Errorf("Sanitize(%s) = %d×%d; want 16×12", tt.name, p.Width, p.Height)
			}
		})
	}
	t.Run("png text chunk", func(t *testing.T) {
		p, err := Sanitize(withTextChunk(pngBytes(t), gps), 1<<20)
		if err != nil {
			t.Skipf("the decoder refused the hand-made chunk: %v", err) // either way nothing is kept
		}
		if bytes.Contains(p.Data, []byte("GPS")) {
			t.Errorf("Sanitize(png with tEXt) kept the text chunk")
		}
	})
}

// FuzzSanitize: whatever the bytes, Sanitize neither panics nor answers anything but a photo that
// is itself a valid photo of the same type, within the limits.
func FuzzSanitize(f *testing.F) {
	f.Add(jpegBytes(f))
	f.Add(pngBytes(f))
	f.Add(withEXIF(jpegBytes(f), "GPS"))
	f.Add([]byte("<html>"))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE0})
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Sanitize(data, 1<<20)
		if err != nil {
			if !errors.Is(err, ErrNotPhoto) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Sanitize error %v is neither ErrNotPhoto nor ErrTooLarge", err)
			}
			return
		}
		if p.Width*p.Height > MaxPixels {
			t.Fatalf("Sanitize answered %d×%d pixels", p.Width, p.Height)
		}
		again, err := Sanitize(p.Data, 1<<30)
		if err != nil {
			t.Fatalf("Sanitize of its own output = %v", err)
		}
		if again.ContentType != p.ContentType {
			t.Fatalf("Sanitize of its own output is %s; want %s", again.ContentType, p.ContentType)
		}
	})
}
