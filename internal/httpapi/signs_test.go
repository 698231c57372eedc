package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

// tinyPNG is a real PNG of a few pixels, for the sign photo routes.
func tinyPNG(t testing.TB) string {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 3, 2))); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// exifGPS stands for the phone's position in a photo's EXIF block.
const exifGPS = "GPSLatitude 27/1 50/1 46/1 N"

// jpegWithGPS is a JPEG whose APP1 segment carries exifGPS.
func jpegWithGPS(t testing.TB) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.RGBA{G: 255, A: 255})
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	payload := "Exif\x00\x00" + exifGPS
	app1 := string([]byte{0xFF, 0xE1, 0, byte(len(payload) + 2)}) + payload
	return b.String()[:2] + app1 + b.String()[2:]
}

// TestSignsAndMaintenance is issue 17, points 3 and 6, through the real server: a sign photo is
// kept without its metadata and shown only to those who see the camera; maintenance work
// orders refuse future dates and move the plan's next due date.
func TestSignsAndMaintenance(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db) // orgA is a PSB, orgB a hotel; op1 operates orgA
		_, owner := f.addUser("owner-b", auth.RoleOwner, f.orgB)
		cam := mustCreate(t, f.do("POST", "/api/v1/cameras", f.operator, "", cameraJSON(f.orgA, "Gate", "public_square")))
		base := "/api/v1/cameras/" + cam

		t.Run("photo", func(t *testing.T) {
			for _, tt := range []struct {
				name, body string
				status     int
			}{
				{"gif", "GIF89a\x01\x00\x01\x00\x00\x00\x00;", 415},
				{"html", "<html><script>alert(1)</script></html>", 415},
				{"too large", jpegWithGPS(t) + strings.Repeat("\x00", 8<<20), 413},
				{"broken jpeg", jpegWithGPS(t)[:60], 400},
			} {
				if r := f.do("PUT", base+"/sign/photo", f.operator, "image/jpeg", tt.body); r.status != tt.status {
					t.Errorf("PUT sign photo (%s) = %d %s; want %d", tt.name, r.status, r.body, tt.status)
				}
			}
			if r := f.do("PUT", base+"/sign/photo", owner, "image/jpeg", jpegWithGPS(t)); r.status != 404 {
				t.Errorf("PUT sign photo by another organisation = %d; want 404", r.status)
			}
			r := f.do("PUT", base+"/sign/photo", f.operator, "image/jpeg", jpegWithGPS(t))
			if r.status != 200 {
				t.Fatalf("PUT sign photo = %d %s; want 200", r.status, r.body)
			}
			var sg struct {
				Installed  bool      `json:"installed"`
				CheckedAt  time.Time `json:"checked_at"`
				CheckDueAt time.Time `json:"check_due_at"`
				Photo      struct {
					SHA256 string `json:"sha256"`
					Type   string `json:"type"`
				} `json:"photo"`
			}
			if err := json.Unmarshal(r.body, &sg); err != nil {
				t.Fatal(err)
			}
			if !sg.Installed || sg.CheckedAt.IsZero() || sg.Photo.Type != "image/jpeg" || !sg.CheckDueAt.After(sg.CheckedAt) {
				t.Errorf("PUT sign photo answered %s; want installed, checked now, a JPEG, a due date", r.body)
			}
			got := f.do("GET", base+"/sign/photo", f.operator, "", "")
			if got.status != 200 || got.ctype != "image/jpeg" || strings.Contains(string(got.body), exifGPS) || strings.Contains(string(got.body), "Exif") {
				t.Errorf("GET sign photo = %d %s, %d bytes (GPS kept: %t); want 200 image/jpeg without metadata",
					got.status, got.ctype, len(got.body), strings.Contains(string(got.body), exifGPS))
			}
			if r := f.do("GET", base+"/sign/photo", owner, "", ""); r.status != 404 {
				t.Errorf("GET sign photo by another organisation = %d; want 404", r.status)
			}
			cr := f.do("GET", base, f.operator, "", "")
			if m := cr.json(t); m["sign_installed"] != true {
				t.Errorf("camera after the photo: sign_installed %v; want true", m["sign_installed"])
			}
			future := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
			if r := f.do("PUT", base+"/sign", f.operator, "", `{"checked_at":"`+future+`"}`); r.status != 400 {
				t.Errorf("PUT sign checked in the future = %d %s; want 400", r.status, r.body)
			}
		})

		t.Run("maintenance", func(t *testing.T) {
			id := mustCreate(t, f.do("POST", base+"/maintenance/orders", f.operator, "", `{"detail":"lens fogged"}`))
			future := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
			if r := f.do("POST", "/api/v1/maintenance/orders/"+id+"/done", f.operator, "", fmt.Sprintf(`{"notes":"x","done_at":%q}`, future)); r.status != 400 {
				t.Errorf("done in the future = %d %s; want 400", r.status, r.body)
			}
			if r := f.do("POST", "/api/v1/maintenance/orders/"+id+"/done", owner, "", `{"notes":"x"}`); r.status != 404 {
				t.Errorf("done by another organisation = %d; want 404", r.status)
			}
			if r := f.do("POST", "/api/v1/maintenance/orders/"+id+"/done", f.operator, "", `{"notes":"wiped the lens"}`); r.status != 200 {
				t.Fatalf("done = %d %s; want 200", r.status, r.body)
			}
			if r := f.do("POST", "/api/v1/maintenance/orders/"+id+"/done", f.operator, "", `{"notes":"again"}`); r.status != 409 {
				t.Errorf("done twice = %d %s; want 409", r.status, r.body)
			}
			plan := f.do("GET", base+"/maintenance", f.operator, "", "").json(t)
			if h, _ := plan["history"].([]any); len(h) != 1 || plan["last_done_at"] == nil || plan["overdue"] != false {
				t.Errorf("plan after the work = %v; want one order in the history, last done, not overdue", plan)
			}
			if list := f.do("GET", "/api/v1/maintenance/orders", owner, "", "").json(t); len(list["orders"].([]any)) != 0 {
				t.Errorf("another organisation's list = %v; want none", list)
			}
		})
	})
}
