package httpapi_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"testing"

	"civicam/internal/auth"
	"civicam/internal/httpapi/apitest"
	"civicam/internal/inspection"
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
