package webui

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/httpapi/apitest"
	"civicam/internal/registry"
	"civicam/internal/store/storetest"
)

// postMultipart submits a multipart form with the page's CSRF token; file, when not nil, is the
// photo field.
func (b *browser) postMultipart(path string, fields map[string]string, file []byte) resp {
	b.s.t.Helper()
	if b.cookie(auth.CSRFCookie) == "" {
		b.get("/login")
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf_token", b.cookie(auth.CSRFCookie))
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if file != nil {
		fw, _ := mw.CreateFormFile("photo", "photo.jpg")
		fw.Write(file)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", b.s.srv.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

// TestInspectionPages: the pages scope each establishment to its own people and the police,
// refuse what the service refuses on the form, and trace what they change and read.
func TestInspectionPages(t *testing.T) {
	db := storetest.SQLite(t)
	st := apitest.New(t, db)
	s := serveStack(t, db, st, stackOpt{with: func(d *Deps) { d.Inspections = st.Inspections }})
	hotel := s.addOrg("Hotel A", registry.KindEstablishment, "hotel")
	other := s.addOrg("Hotel B", registry.KindEstablishment, "hotel")
	bank := s.addOrg("Bank", registry.KindEstablishment, "bank")
	s.addUser("owner", auth.RoleOwner, hotel)
	s.addUser("staff", auth.RoleOperator, hotel)
	s.addUser("otherowner", auth.RoleOwner, other)
	s.addUser("auditor", auth.RoleAuditor, "")
	today := time.Now().UTC().Format(time.DateOnly)

	owner := s.loggedIn("owner")
	if r := owner.post("/inspections/"+hotel+"/plan", url.Values{"room_groups": {"Floor 1\n\n Floor 2 \n"}}); r.status != http.StatusSeeOther {
		t.Fatalf("POST plan = %d; want 303\n%s", r.status, r.body)
	}
	n := s.size()
	r := owner.postMultipart("/inspections/"+hotel+"/records", map[string]string{"room_group": "Floor 1", "inspected_on": today,
		"inspector": "Li", "result": "found"}, nil)
	if r.status != http.StatusBadRequest {
		t.Errorf("POST a found record without a photo = %d; want 400", r.status)
	}
	mustContain(t, "refused record form", r.body, `id="form-error"`, `value="Li"`)
	// The refused form is drawn again on the page, which reads the records: a look, no record.
	if got := actions(s.entriesSince(n)); !slices.Equal(got, []string{"inspection_read"}) {
		t.Errorf("trail after a refused record = %v; want the page's read alone", got)
	}
	n = s.size()
	if r := owner.postMultipart("/inspections/"+hotel+"/records", map[string]string{"room_group": "Floor 1", "inspected_on": today,
		"inspector": "Li", "result": "found", "notes": "pinhole"}, jpegWithGPS(t)); r.status != http.StatusSeeOther {
		t.Fatalf("POST a found record with its photo = %d; want 303\n%s", r.status, r.body)
	}
	page := owner.get("/inspections/" + hotel)
	mustContain(t, "the owner's page (zh)", page.body, "偷拍设备检查", "Floor 2", `id="plan-form"`, `id="record-form"`, "发现疑似设备", "record-photo")
	if got := actions(s.entriesSince(n)); !slices.Equal(got, []string{"inspection_record", "inspection_read"}) {
		t.Errorf("trail of a record and a look = %v; want inspection_record inspection_read", got)
	}
	recs, err := st.Inspections.Records(setupCtx, &auth.User{ID: "t", Role: auth.RoleAdmin}, hotel, 0)
	if err != nil || len(recs) != 1 {
		t.Fatalf("Records = %d, %v; want 1", len(recs), err)
	}
	if ph := owner.get("/inspections/records/" + recs[0].ID + "/photo"); ph.status != http.StatusOK || bytes.Contains([]byte(ph.body), []byte(exifGPS)) {
		t.Errorf("GET photo = %d (GPS kept: %v); want 200 without the GPS", ph.status, bytes.Contains([]byte(ph.body), []byte(exifGPS)))
	}

	staff := s.loggedIn("staff")
	mustContain(t, "the operator's page", staff.get("/inspections/"+hotel).body, "Floor 1")
	mustNotContain(t, "the operator's page", staff.get("/inspections/"+hotel).body, `id="plan-form"`, `id="record-form"`)

	stranger := s.loggedIn("otherowner")
	n = s.size()
	for _, p := range []string{"/inspections/" + hotel, "/inspections/records/" + recs[0].ID + "/photo"} {
		if r := stranger.get(p); r.status != http.StatusNotFound {
			t.Errorf("another hotel's owner GET %s = %d; want 404", p, r.status)
		}
	}
	if r := stranger.post("/inspections/"+hotel+"/plan", url.Values{"room_groups": {"x"}}); r.status != http.StatusNotFound {
		t.Errorf("another hotel's owner POST plan = %d; want 404", r.status)
	}
	if got := actions(s.entriesSince(n)); !slices.Equal(got, []string{"access_denied:denied", "access_denied:denied", "access_denied:denied"}) {
		t.Errorf("trail of a stranger's tries = %v; want three denials", got)
	}
	list := stranger.get("/inspections").body
	mustContain(t, "the other hotel's list", list, "Hotel B")
	mustNotContain(t, "the other hotel's list", list, "Hotel A", "Bank")

	aud := s.loggedIn("auditor")
	list = aud.get("/inspections").body
	mustContain(t, "the auditor's list", list, "Hotel A", "Hotel B", "Floor 2", `id="inspections-overdue"`)
	mustNotContain(t, "the auditor's list", list, "Bank")
	mustNotContain(t, "the auditor's page", aud.get("/inspections/"+hotel).body, `id="plan-form"`)
	if r := aud.get("/inspections/" + bank); r.status != http.StatusOK {
		t.Errorf("auditor GET a bank's page = %d; want 200 (nothing to inspect)", r.status)
	}
}
