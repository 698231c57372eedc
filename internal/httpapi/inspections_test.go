package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"civicam/internal/auth"
	"civicam/internal/httpapi/apitest"
	"civicam/internal/inspection"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// inspectionFixtures are a hotel's plan with a record that has a photo, and a public report
// with a photo and its receipt.
type inspectionFixtures struct {
	s                       *stack
	record, report, receipt string
}

// photoJPEG is a small JPEG that carries an EXIF segment with a GPS position.
func photoJPEG(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.RGBA{200, 0, 0, 255})
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	j := b.Bytes()
	payload := []byte("Exif\x00\x00GPSLatitude 27.83 N")
	seg := []byte{0xFF, 0xE1, 0, byte(len(payload) + 2)}
	return append(append(append(append([]byte{}, j[:2]...), seg...), payload...), j[2:]...)
}

func newInspectionFixtures(t *testing.T, s *stack, hotel string) *inspectionFixtures {
	t.Helper()
	admin := &auth.User{ID: "setup", Role: auth.RoleAdmin}
	if _, err := s.Inspections.SetPlan(apitest.SetupCtx, admin, hotel, []string{"floor 1", "floor 2"}); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Inspections.AddRecord(apitest.SetupCtx, admin, inspection.RecordInput{OrganisationID: hotel, RoomGroup: "floor 2",
		InspectedOn: "2026-12-01", Inspector: "Li", Result: inspection.ResultFound, Notes: "lens in a smoke detector"}, photoJPEG(t))
	if err != nil {
		t.Fatal(err)
	}
	f := &inspectionFixtures{s: s, record: rec.ID}
	rc := f.newReport(t, photoJPEG(t))
	f.report, f.receipt = rc.ReportID, rc.Code
	return f
}

func (f *inspectionFixtures) newReport(t *testing.T, photo []byte) *inspection.Receipt {
	t.Helper()
	rc, err := f.s.Inspections.SubmitReport(apitest.SetupCtx, inspection.ReportInput{Place: "Hotel room 305", Description: "a blinking light"}, photo)
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

// TestCameraReportAttack sends the public form what an attacker would: bodies without end, huge
// and hostile fields, a photo that is not one, a decompression bomb, and a flood from one
// address; then checks that the reporter's view and the counts give away nothing beyond the
// status, the outcome and the police's public note.
func TestCameraReportAttack(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newStack(t, db)
		b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
		tests := []struct {
			name   string
			body   string
			status int
		}{
			{"body past the limit", `{"place":"` + strings.Repeat("a", 13<<20) + `","description":"x"}`, http.StatusRequestEntityTooLarge},
			{"place too long", `{"place":"` + strings.Repeat("房", 201) + `","description":"x"}`, http.StatusBadRequest},
			{"control characters", `{"place":"a\u0000b","description":"x"}`, http.StatusBadRequest},
			{"unknown field", `{"place":"a","description":"b","reporter_name":"x"}`, http.StatusBadRequest},
			{"no description", `{"place":"a"}`, http.StatusBadRequest},
			{"html as a photo", `{"place":"a","description":"b","photo":"` + b64([]byte("<html><script>alert(1)</script>")) + `"}`, http.StatusUnsupportedMediaType},
			{"photo not base64", `{"place":"a","description":"b","photo":"%%%"}`, http.StatusBadRequest},
			{"not JSON", `place=a&description=b`, http.StatusBadRequest},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := s.do("POST", "/api/v1/camera-reports", "", "", tt.body)
				if r.status != tt.status {
					t.Errorf("POST camera-reports (%s) = %d %.200s; want %d", tt.name, r.status, r.body, tt.status)
				}
			})
		}
		if c, _ := s.Inspections.ReportCounts(context.Background()); c.Total != 0 {
			t.Fatalf("after refused reports, %d were stored; want 0", c.Total)
		}

		r := s.do("POST", "/api/v1/camera-reports", "", "", `{"place":"Hotel room 305","description":"<img src=x onerror=alert(1)>","photo":"`+b64(photoJPEG(t))+`"}`)
		if r.status != http.StatusCreated {
			t.Fatalf("POST camera-reports = %d %s; want 201", r.status, r.body)
		}
		receipt := r.json(t)["receipt"].(string)
		if strings.Contains(string(r.body), `"id"`) {
			t.Errorf("the receipt answer %s names the report's id", r.body)
		}
		_, revTok := s.addUser("rev", auth.RoleReviewer, "")
		list := s.do("GET", "/api/v1/camera-reports", revTok, "", "")
		id := list.json(t)["reports"].([]any)[0].(map[string]any)["id"].(string)
		ph := s.do("GET", "/api/v1/camera-reports/"+id+"/photo", revTok, "", "")
		if ph.status != http.StatusOK || ph.ctype != "image/jpeg" || bytes.Contains(ph.body, []byte("GPS")) {
			t.Errorf("GET photo = %d %s, GPS kept %v; want a JPEG without its EXIF", ph.status, ph.ctype, bytes.Contains(ph.body, []byte("GPS")))
		}
		for _, step := range []string{`{"status":"triaged"}`, `{"status":"visited","police_note":"officer Zhang met manager Wang and guest Liu"}`,
			`{"status":"closed","outcome":"device_found_removed","public_note":"A device was found and removed."}`} {
			if r := s.do("PATCH", "/api/v1/camera-reports/"+id, revTok, "", step); r.status != http.StatusOK {
				t.Fatalf("PATCH %s = %d %s", step, r.status, r.body)
			}
		}
		v := s.do("POST", "/api/v1/camera-reports/status", "", "", `{"receipt":"`+receipt+`"}`)
		if v.status != http.StatusOK {
			t.Fatalf("status by receipt = %d %s", v.status, v.body)
		}
		for _, secret := range []string{"Zhang", "Wang", "Liu", "rev", id, "photo", "handled_by", "police_note"} {
			if strings.Contains(string(v.body), secret) {
				t.Errorf("the reporter's view %s contains %q", v.body, secret)
			}
		}
		if got := v.json(t)["outcome"]; got != "device_found_removed" {
			t.Errorf("the reporter's view outcome = %v; want device_found_removed", got)
		}
		if r := s.do("POST", "/api/v1/camera-reports/status", "", "", `{"receipt":"`+strings.Repeat("A", 5000)+`"}`); r.status != http.StatusNotFound {
			t.Errorf("status by a huge receipt = %d; want 404", r.status)
		}
		counts := s.do("GET", "/api/v1/camera-reports/counts", "", "", "")
		if strings.Contains(string(counts.body), "Hotel") || counts.json(t)["total"] != 1.0 {
			t.Errorf("counts = %s; want total 1 and no place", counts.body)
		}
	})
}

// TestCameraReportThrottle: the form is throttled per address, as registrations are.
func TestCameraReportThrottle(t *testing.T) {
	db := storetest.SQLite(t)
	s := newStack(t, db)
	svc, err := inspection.New(inspection.Config{ReportsPerAddress: 3}, inspection.Deps{Repo: db, Organisations: s.Registry,
		Pack: s.Registry.Pack, Tracer: s.Tracer})
	if err != nil {
		t.Fatal(err)
	}
	s.Stack.Inspections = svc
	srv := httptest.NewServer(s.NewAPI(t, apitest.Parts{}).Handler())
	t.Cleanup(srv.Close)
	s.srv = srv
	n := s.size()
	var codes []int
	for range 5 {
		codes = append(codes, s.do("POST", "/api/v1/camera-reports", "", "", `{"place":"a","description":"b"}`).status)
	}
	if want := []int{201, 201, 201, 429, 429}; !slices.Equal(codes, want) {
		t.Errorf("five reports from one address = %v; want %v", codes, want)
	}
	var denied int
	for _, e := range s.entriesSince(n) {
		if e.Action == trace.ActionCameraReport && e.Outcome == trace.Denied {
			denied++
		}
	}
	if denied != 2 {
		t.Errorf("throttled reports traced = %d; want 2", denied)
	}
}
