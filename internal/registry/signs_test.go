package registry_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
	"time"

	"civicam/internal/fault"
	"civicam/internal/policy"
	"civicam/internal/registry"
	"civicam/internal/trace"
)

// gpsMarker stands for a phone's position in an EXIF block; it must not survive the upload.
const gpsMarker = "GPSLatitude=27.8461N"

// testJPEG is a small JPEG with an APP1 EXIF segment carrying gpsMarker.
func testJPEG(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 8))
	for x := range 16 {
		img.Set(x, x%8, color.RGBA{R: 200, A: 255})
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	payload := append([]byte("Exif\x00\x00"), gpsMarker...)
	app1 := append([]byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}, payload...)
	raw := b.Bytes()
	return append(append(append([]byte{}, raw[:2]...), app1...), raw[2:]...)
}

func testPNG(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	// A tEXt chunk before IEND, where a camera app may write where it was.
	raw := b.Bytes()
	data := []byte("tEXtComment\x00" + gpsMarker)
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(data)-4))
	chunk = append(chunk, data...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(data))
	return append(append(append([]byte{}, raw[:len(raw)-12]...), chunk...), raw[len(raw)-12:]...)
}

func TestSanitizePhoto(t *testing.T) {
	tests := []struct {
		name     string
		in       []byte
		wantType string
		wantKind fault.Kind
	}{
		{"jpeg with exif gps", testJPEG(t), registry.PhotoJPEG, 0},
		{"png", testPNG(t), registry.PhotoPNG, 0},
		{"gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), "", fault.Unsupported},
		{"html named jpeg", []byte("<html><script>alert(1)</script>"), "", fault.Unsupported},
		{"truncated jpeg", testJPEG(t)[:40], "", fault.Invalid},
		{"too large", append(testJPEG(t), make([]byte, registry.MaxSignPhotoBytes)...), "", fault.TooLarge},
		{"empty", nil, "", fault.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := registry.SanitizePhoto(tt.in)
			var inv *registry.InvalidError
			if tt.wantKind == fault.Invalid {
				if !errors.As(err, &inv) || inv.Field != "photo" {
					t.Fatalf("SanitizePhoto(%s) error = %v; want invalid photo", tt.name, err)
				}
				return
			}
			if tt.wantKind != 0 {
				fe, ok := fault.As(err)
				if !ok || fe.Kind != tt.wantKind {
					t.Fatalf("SanitizePhoto(%s) error = %v; want kind %v", tt.name, err, tt.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatalf("SanitizePhoto(%s) = %v; want a photo", tt.name, err)
			}
			if p.Type != tt.wantType || p.Size != len(p.Data) || len(p.SHA256) != 64 {
				t.Errorf("SanitizePhoto(%s) = type %q size %d sha %q; want %s", tt.name, p.Type, p.Size, p.SHA256, tt.wantType)
			}
			if bytes.Contains(p.Data, []byte(gpsMarker)) || bytes.Contains(p.Data, []byte("Exif")) {
				t.Errorf("SanitizePhoto(%s) kept the metadata", tt.name)
			}
		})
	}
}

// FuzzSanitizePhoto: whatever an upload holds, the parser answers with a photo of a taken type
// or an error, never a panic, and what it keeps decodes again.
func FuzzSanitizePhoto(f *testing.F) {
	f.Add(testJPEG(f))
	f.Add(testPNG(f))
	f.Add([]byte("\xff\xd8\xff\xe1\x00\x10Exif\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := registry.SanitizePhoto(b)
		if err != nil {
			return
		}
		if p.Type != registry.PhotoJPEG && p.Type != registry.PhotoPNG {
			t.Fatalf("SanitizePhoto kept type %q", p.Type)
		}
		if _, _, err := image.Decode(bytes.NewReader(p.Data)); err != nil {
			t.Fatalf("SanitizePhoto kept bytes that do not decode: %v", err)
		}
		if bytes.Contains(p.Data, []byte("Exif")) {
			t.Fatal("SanitizePhoto kept an EXIF block")
		}
	})
}

func TestSigns(t *testing.T) {
	w := newOneCamera(t, 0)
	svc, clock, tr, registered, cam, own, other, u := w.svc, w.clock, w.tr, w.registered, w.cam, w.own, w.other, w.user
	ctx, yes := context.Background(), true
	clock.Set(registered.AddDate(0, 1, 0))

	codes := func() map[string]bool {
		t.Helper()
		page, _, err := svc.CompliancePage(ctx, own, "", cam.ID, nil, 100)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, f := range page {
			m[f.Code] = true
		}
		return m
	}
	if !codes()[policy.CodeNoSign] {
		t.Fatalf("findings before a sign = %v; want no_sign", codes())
	}

	future := clock.Now().Add(time.Hour)
	_, err := svc.UpdateSign(ctx, own, u, cam.ID, &registry.SignInput{Installed: &yes, CheckedAt: &future})
	if inv := (*registry.InvalidError)(nil); !errors.As(err, &inv) || inv.Field != "sign_checked_at" {
		t.Errorf("UpdateSign(check in the future) = %v; want invalid sign_checked_at", err)
	}
	if _, err := svc.UpdateSign(ctx, other, u, cam.ID, &registry.SignInput{Installed: &yes}); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("UpdateSign(other organisation) = %v; want not found", err)
	}
	before := len(tr.records)
	sg, err := svc.UpdateSign(ctx, own, u, cam.ID, &registry.SignInput{Installed: &yes, Photo: testJPEG(t)})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.records) != before+1 || tr.records[before].Action != trace.ActionSignUpdate {
		t.Fatalf("UpdateSign traced %v; want one sign_update", tr.records[before:])
	}
	if !sg.Installed || !sg.CheckedAt.Equal(clock.Now()) || sg.CheckedBy != "u1" || sg.Photo == nil || !sg.CheckDueAt.Equal(clock.Now().AddDate(0, 0, 365)) {
		t.Errorf("UpdateSign = %+v; want installed, checked now by u1, a photo, due in 365 days", sg)
	}
	if c := codes(); c[policy.CodeNoSign] || c[policy.CodeSignCheckOverdue] {
		t.Errorf("findings after a checked sign = %v; want neither no_sign nor sign_check_overdue", c)
	}
	clock.Set(clock.Now().AddDate(0, 0, 366))
	if c := codes(); !c[policy.CodeSignCheckOverdue] {
		t.Errorf("findings a year and a day after the check = %v; want sign_check_overdue", c)
	}

	if _, err := svc.SignPhoto(ctx, other, cam.ID); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("SignPhoto(other organisation) = %v; want not found", err)
	}
	before = len(tr.records)
	p, err := svc.SignPhoto(ctx, own, cam.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.SHA256 != sg.Photo.SHA256 || p.Type != registry.PhotoJPEG || bytes.Contains(p.Data, []byte(gpsMarker)) {
		t.Errorf("SignPhoto = %s %s; want the stored JPEG %s without metadata", p.Type, p.SHA256, sg.Photo.SHA256)
	}
	if len(tr.records) != before+1 || tr.records[before].Action != trace.ActionSignPhotoRead {
		t.Errorf("SignPhoto traced %v; want one sign_photo_read", tr.records[before:])
	}
	got, err := svc.Camera(ctx, own, cam.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.SignInstalled || !got.SignCheckedAt.Equal(sg.CheckedAt) {
		t.Errorf("camera after UpdateSign: sign_installed %t checked %v; want true, %v", got.SignInstalled, got.SignCheckedAt, sg.CheckedAt)
	}
}
