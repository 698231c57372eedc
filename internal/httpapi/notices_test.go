package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"civicam/internal/auth"
	"civicam/internal/lostperson"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

// TestNoticeCorrection: after a notice is sent, a correction is drafted and approved by a
// second reviewer alike; the applicant then sees it marked as a correction and the old one as
// superseded, and a reviewer of another organisation cannot approve.
func TestNoticeCorrection(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s, _ := newAppStack(t, db)
		_, adminTok := s.addUser("admin1", auth.RoleAdmin, "")
		orgA := mustCreate(t, s.do("POST", "/api/v1/organisations", adminTok, "", `{"name":"PSB","kind":"department","department_type":"public_security"}`))
		orgB := mustCreate(t, s.do("POST", "/api/v1/organisations", adminTok, "", `{"name":"PSB two","kind":"department","department_type":"public_security"}`))
		_, appTok := s.addUser("mother", auth.RoleApplicant, "")
		_, rev1 := s.addUser("rev-a1", auth.RoleReviewer, orgA)
		_, rev2 := s.addUser("rev-a2", auth.RoleReviewer, orgA)
		_, revB := s.addUser("rev-b1", auth.RoleReviewer, orgB)
		id := mustCreate(t, s.do("POST", "/api/v1/applications", appTok, "", applicationJSON("elderly")))
		acceptWithDocs(t, s.do, id, rev1)
		first := sendNotice(t, s.do, id, rev1, rev2, `{"outcome":"sighted","message":"Your mother was seen at the bus station."}`)

		corr := mustCreate(t, s.do("POST", "/api/v1/applications/"+id+"/notices", rev2, "", `{"outcome":"found","message":"Correction: your mother was found safe at home."}`))
		before := s.size()
		if r := s.do("POST", "/api/v1/applications/"+id+"/notices/"+corr+"/approve", revB, "", ""); r.status != http.StatusForbidden {
			t.Fatalf("approval by another organisation = %d %s; want 403", r.status, r.body)
		}
		if es := s.entriesSince(before); len(es) == 0 || es[0].Action != "notice_approve" || es[0].Outcome != "denied" {
			t.Errorf("refused approval traced %+v; want a denied notice_approve", es)
		}
		var v lostperson.ApplicantView
		r := s.do("GET", "/api/v1/applications/"+id, appTok, "", "")
		json.Unmarshal(r.body, &v)
		if len(v.Notices) != 1 || strings.Contains(string(r.body), "found safe at home") {
			t.Fatalf("applicant view with a draft correction = %s; want the first notice only", r.body)
		}
		before = s.size()
		if r := s.do("POST", "/api/v1/applications/"+id+"/notices/"+corr+"/approve", rev1, "", ""); r.status != http.StatusOK {
			t.Fatalf("approval of the correction = %d %s", r.status, r.body)
		}
		if es := s.entriesSince(before); len(es) != 1 || es[0].Action != "notice_approve" || !strings.Contains(es[0].Reason, "superseding "+first) {
			t.Errorf("correction traced %+v; want one notice_approve naming the superseded notice", es)
		}
		r = s.do("GET", "/api/v1/applications/"+id, appTok, "", "")
		v = lostperson.ApplicantView{}
		json.Unmarshal(r.body, &v)
		if v.ResultNotice != "Correction: your mother was found safe at home." || len(v.Notices) != 2 ||
			!v.Notices[0].Correction || v.Notices[0].Superseded || v.Notices[1].ID != first || !v.Notices[1].Superseded {
			t.Fatalf("applicant view after the correction = %s; want the correction in force and the first superseded", r.body)
		}
		for _, leak := range []string{"rev-a1", "rev-a2", "author_id", "approved_by"} {
			if strings.Contains(string(r.body), leak) {
				t.Errorf("applicant view shows %q: %s", leak, r.body)
			}
		}
	})
}

// TestPersonalDataTrailDown: with the trail down, a reviewer's look at an application, its
// notices, a document or the applicant's contact is answered 503 and nothing is served; no
// notice is drafted or approved untraced.
func TestPersonalDataTrailDown(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s, _ := newAppStack(t, db)
		_, appTok := s.addUser("mother", auth.RoleApplicant, "")
		_, rev1 := s.addUser("rev1", auth.RoleReviewer, "")
		_, rev2 := s.addUser("rev2", auth.RoleReviewer, "")
		id := mustCreate(t, s.do("POST", "/api/v1/applications", appTok, "", applicationJSON("elderly")))
		body, ct := multipartBody("identity", "id.png", "image/png", pngBytes)
		doc := mustCreate(t, s.do("POST", "/api/v1/applications/"+id+"/documents", appTok, ct, body))
		acceptWithDocs(t, s.do, id, rev1)
		nid := mustCreate(t, s.do("POST", "/api/v1/applications/"+id+"/notices", rev1, "", `{"outcome":"found","message":"Found safe."}`))
		for _, tc := range []struct{ method, path, token, body string }{
			{"GET", "/api/v1/applications/" + id, rev1, ""},
			{"GET", "/api/v1/applications/" + id + "/documents/" + doc, rev1, ""},
			{"GET", "/api/v1/applications/" + id + "/contact", rev1, ""},
			{"GET", "/api/v1/applications/" + id + "/notices", rev1, ""},
			{"GET", "/api/v1/applications?status=accepted", rev1, ""},
			{"POST", "/api/v1/applications/" + id + "/notices", rev1, `{"outcome":"found","message":"Found safe at home."}`},
			{"POST", "/api/v1/applications/" + id + "/notices/" + nid + "/approve", rev2, ""},
		} {
			t.Run(tc.method+" "+tc.path, func(t *testing.T) {
				s.Tracer.Fail.Store(true)
				r := s.do(tc.method, tc.path, tc.token, "", tc.body)
				s.Tracer.Fail.Store(false)
				if r.status != http.StatusServiceUnavailable || strings.Contains(string(r.body), "grey coat") || strings.Contains(string(r.body), "PNG") {
					t.Errorf("%s %s with the trail down = %d %.200s; want 503 and nothing served", tc.method, tc.path, r.status, r.body)
				}
			})
		}
		var v lostperson.ReviewerView
		json.Unmarshal(s.do("GET", "/api/v1/applications/"+id, rev1, "", "").body, &v)
		if v.Status != lostperson.StatusAccepted || len(v.Notices) != 1 || v.Notices[0].Status != lostperson.NoticeDraft {
			t.Errorf("after the refusals: status %s, notices %+v; want accepted with the one draft", v.Status, v.Notices)
		}
	})
}
