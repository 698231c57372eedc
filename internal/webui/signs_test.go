package webui

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"civicam/internal/auth"
	"civicam/internal/registry"
)

// exifGPS stands for the phone's position in a photo's EXIF block.
const exifGPS = "GPSLatitude 27/1 50/1 46/1 N"

// jpegWithGPS is a JPEG whose APP1 segment carries exifGPS.
func jpegWithGPS(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(2, 2, color.RGBA{B: 255, A: 255})
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	payload := "Exif\x00\x00" + exifGPS
	raw := b.Bytes()
	out := append([]byte{}, raw[:2]...)
	out = append(out, 0xFF, 0xE1, 0, byte(len(payload)+2))
	out = append(out, payload...)
	return append(out, raw[2:]...)
}

// signFixture gives camera cam a sign photo and an open work order, as an admin would; it
// returns the order's id.
func signFixture(t *testing.T, s *stack, cam string) string {
	t.Helper()
	admin := &auth.User{ID: "fixture", Role: auth.RoleAdmin}
	if _, err := s.reg.UpdateSign(setupCtx, registry.Scope{All: true}, admin, cam, &registry.SignInput{Photo: jpegWithGPS(t)}); err != nil {
		t.Fatal(err)
	}
	o, err := s.reg.OpenWorkOrder(setupCtx, registry.Scope{All: true}, admin, cam, "fixture")
	if err != nil {
		t.Fatal(err)
	}
	return o.ID
}

// postPhoto uploads a sign photo through the camera page's multipart form.
func (b *browser) postPhoto(path string, photo []byte) resp {
	b.s.t.Helper()
	if b.cookie(auth.CSRFCookie) == "" {
		b.get("/login")
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf_token", b.cookie(auth.CSRFCookie))
	fw, _ := mw.CreateFormFile("photo", "sign.jpg")
	fw.Write(photo)
	mw.Close()
	req, _ := http.NewRequest("POST", b.s.srv.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

// TestSignAndMaintenancePages: the camera page shows the sign and the maintenance plan in both
// languages; a photo uploaded through the page is served without its metadata; a work order
// opened and done through the pages lands in the history and on the maintenance list.
func TestSignAndMaintenancePages(t *testing.T) {
	s := newStack(t)
	orgA := s.addOrg("PSB", registry.KindDepartment, "public_security")
	orgB := s.addOrg("Hotel", registry.KindEstablishment, "hotel")
	s.addUser("op1", auth.RoleOperator, orgA)
	s.addUser("owner1", auth.RoleOwner, orgB)
	cam := s.addCamera(orgA, "Gate A", 27.83, 113.15, nil)
	op := s.loggedIn("op1")

	if r := op.postPhoto("/cameras/"+cam+"/sign/photo", jpegWithGPS(t)); r.status != http.StatusSeeOther {
		t.Fatalf("POST sign photo = %d; want 303\n%.400s", r.status, r.body)
	}
	if r := op.postPhoto("/cameras/"+cam+"/sign/photo", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")); r.status != http.StatusUnsupportedMediaType {
		t.Errorf("POST a GIF as sign photo = %d; want 415", r.status)
	}
	p := op.get("/cameras/" + cam + "/sign/photo")
	if p.status != http.StatusOK || p.res.Header.Get("Content-Type") != "image/jpeg" || strings.Contains(p.body, exifGPS) {
		t.Errorf("GET sign photo = %d %s (GPS kept: %t); want 200 image/jpeg without metadata", p.status, p.res.Header.Get("Content-Type"), strings.Contains(p.body, exifGPS))
	}
	if r := s.loggedIn("owner1").get("/cameras/" + cam + "/sign/photo"); r.status != http.StatusNotFound {
		t.Errorf("GET sign photo as another organisation = %d; want 404", r.status)
	}
	if r := op.post("/cameras/"+cam+"/maintenance/orders", url.Values{"detail": {"lens fogged"}}); r.status != http.StatusSeeOther {
		t.Fatalf("POST work order = %d; want 303\n%.400s", r.status, r.body)
	}
	list := op.get("/maintenance")
	i := strings.Index(list.body, `data-order="`)
	if list.status != http.StatusOK || i < 0 {
		t.Fatalf("GET /maintenance = %d without an order\n%.600s", list.status, list.body)
	}
	id := list.body[i+len(`data-order="`) : i+len(`data-order="`)+36]
	if r := op.post("/maintenance/orders/"+id+"/done", url.Values{"notes": {"wiped the lens"}, "done_at": {"2999-01-01"}}); r.status != http.StatusBadRequest {
		t.Errorf("POST done in the future = %d; want 400", r.status)
	}
	if r := op.post("/maintenance/orders/"+id+"/done", url.Values{"notes": {"wiped the lens"}}); r.status != http.StatusSeeOther {
		t.Fatalf("POST done = %d; want 303\n%.400s", r.status, r.body)
	}
	for _, lang := range []struct{ code, sign, maint string }{{"en", "Reminder sign", "wiped the lens"}, {"zh", "提示标识", "维护记录"}} {
		op.get("/lang/" + lang.code + "?next=/")
		page := op.get("/cameras/" + cam)
		for _, want := range []string{`id="sign"`, `id="sign-photo"`, `id="maintenance"`, `id="orders-done"`, lang.sign, lang.maint} {
			if !strings.Contains(page.body, want) {
				t.Errorf("camera page (%s) lacks %q", lang.code, want)
			}
		}
	}
}
