package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

// TestFilingThroughServer records a system filing through the real server on both databases: a
// camera accepted (made active) is listed with no filing, the admin records one, it is listed
// filed with the recorder, and a second filing or one dated in the future is refused.
func TestFilingThroughServer(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newStack(t, db)
		adminID, admin := s.addUser("admin1", auth.RoleAdmin, "")
		org := mustCreate(t, s.do("POST", "/api/v1/organisations", admin, "", `{"name":"PSB","kind":"department","department_type":"public_security"}`))
		cam := mustCreate(t, s.do("POST", "/api/v1/cameras", admin, "", cameraJSON(org, "Gate", "public_square")))
		if res := s.do("PATCH", "/api/v1/cameras/"+cam, admin, "", `{"status":"active","networked":true}`); res.status != 200 {
			t.Fatalf("activate = %d %s", res.status, res.body)
		}
		list := s.do("GET", "/api/v1/filings", admin, "", "")
		if list.status != 200 || !strings.Contains(string(list.body), cam) || strings.Contains(string(list.body), "filed_at") {
			t.Fatalf("GET /filings = %d %s; want the accepted camera, not filed", list.status, list.body)
		}
		today := time.Now().UTC().Format(time.DateOnly)
		tomorrow := time.Now().UTC().Add(48 * time.Hour).Format(time.DateOnly)
		steps := []struct {
			name, body string
			status     int
		}{
			{"dated in the future", `{"filed_on":"` + tomorrow + `","reference":"BA-1"}`, http.StatusBadRequest},
			{"filed", `{"filed_on":"` + today + `","reference":"BA-1"}`, http.StatusOK},
			{"filed again", `{"filed_on":"` + today + `","reference":"BA-2"}`, http.StatusConflict},
		}
		for _, st := range steps {
			if res := s.do("POST", "/api/v1/cameras/"+cam+"/filing", admin, "", st.body); res.status != st.status {
				t.Errorf("%s: POST filing = %d %s; want %d", st.name, res.status, res.body, st.status)
			}
		}
		list = s.do("GET", "/api/v1/filings", admin, "", "")
		if !strings.Contains(string(list.body), `"filed_by":"`+adminID+`"`) || !strings.Contains(string(list.body), `"reference":"BA-1"`) {
			t.Errorf("GET /filings after the filing = %s; want it filed by %s with BA-1", list.body, adminID)
		}
	})
}
