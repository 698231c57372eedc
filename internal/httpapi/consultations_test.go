package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/consultation"
	"civicam/internal/httpapi/apitest"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

// consultationStack is the real API with the consultation service's throttle at limit opinions
// per address an hour, as a city would run it.
func consultationStack(t *testing.T, db *store.DB, limit int) *stack {
	t.Helper()
	st := apitest.New(t, db)
	st.Consultation = consultation.New(consultation.Config{OpinionsPerAddress: limit},
		consultation.Deps{Store: db, Tracer: st.Tracer, Now: st.Clock.Now})
	st.API = st.NewAPI(t, apitest.Parts{})
	srv := httptest.NewServer(st.API.Handler())
	t.Cleanup(srv.Close)
	return &stack{Stack: st, t: t, db: db, reg: st.Registry, trail: st.Trail, api: st.API, srv: srv}
}

// TestConsultationThroughServer runs issue 17 point 7 through the real server on both
// databases: a draft published, opinions from the public with receipts, the final refused
// before the deadline and while one opinion is unanswered, answers, the final, and the public
// record and a receipt's answer read anonymously.
func TestConsultationThroughServer(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := consultationStack(t, db, 100)
		_, admin := s.addUser("admin1", auth.RoleAdmin, "")
		_, rev := s.addUser("rev1", auth.RoleReviewer, "")
		res := s.do("POST", "/api/v1/consultations", admin, "", consultationJSON(s.Clock.Now().Add(24*time.Hour)))
		if res.status != http.StatusCreated {
			t.Fatalf("POST /consultations = %d %s; want 201", res.status, res.body)
		}
		id := res.json(t)["id"].(string)
		base := "/api/v1/consultations/" + id
		var receipts, opinions []string
		for i := range 2 {
			res := s.do("POST", base+"/opinions", "", "", fmt.Sprintf(`{"text":"opinion %d"}`, i))
			if res.status != http.StatusCreated {
				t.Fatalf("POST opinions = %d %s; want 201", res.status, res.body)
			}
			m := res.json(t)
			receipts = append(receipts, m["receipt"].(string))
			opinions = append(opinions, m["opinion"].(map[string]any)["id"].(string))
			s.Clock.Advance(time.Second)
		}
		steps := []struct {
			name, method, path, token, body string
			status                          int
			code                            string
		}{
			{"final before the deadline", "POST", base + "/final", admin, `{"final":"F"}`, 409, consultation.CodeStillOpen},
			{"answer without why", "POST", base + "/opinions/" + opinions[0] + "/answer", rev, `{"verdict":"adopted","answer":""}`, 400, "invalid"},
			{"answer of another consultation's path", "POST", "/api/v1/consultations/" + strings.Repeat("0", 32) + "/opinions/" + opinions[0] + "/answer", rev,
				`{"verdict":"adopted","answer":"yes"}`, 404, "not_found"},
			{"answer", "POST", base + "/opinions/" + opinions[0] + "/answer", rev, `{"verdict":"adopted","answer":"Added online applications."}`, 200, ""},
			{"answer again", "POST", base + "/opinions/" + opinions[0] + "/answer", admin, `{"verdict":"not_adopted","answer":"no"}`, 409, consultation.CodeAnswered},
			{"advance past the deadline", "", "", "", "", 0, ""},
			{"opinion after the deadline", "POST", base + "/opinions", "", `{"text":"late"}`, 409, consultation.CodeClosed},
			{"final with one unanswered", "POST", base + "/final", admin, `{"final":"F"}`, 409, consultation.CodeUnanswered},
			{"second answer", "POST", base + "/opinions/" + opinions[1] + "/answer", admin, `{"verdict":"partly_adopted","answer":"Four hours, not two."}`, 200, ""},
			{"final by a reviewer", "POST", base + "/final", rev, `{"final":"F"}`, 403, ""},
			{"final", "POST", base + "/final", admin, `{"final":"0. Apply online or at a station."}`, 200, ""},
		}
		for _, st := range steps {
			if st.method == "" {
				s.Clock.Advance(25 * time.Hour)
				continue
			}
			res := s.do(st.method, st.path, st.token, "", st.body)
			if res.status != st.status || (st.code != "" && res.errorCode() != st.code) {
				t.Errorf("%s: %s %s = %d %s; want %d %s", st.name, st.method, st.path, res.status, res.body, st.status, st.code)
			}
		}
		rec := s.do("GET", base, "", "", "")
		if rec.status != http.StatusOK {
			t.Fatalf("GET %s = %d; want 200", base, rec.status)
		}
		m := rec.json(t)
		c := m["consultation"].(map[string]any)
		ops := m["opinions"].([]any)
		if c["status"] != "final" || c["final"] != "0. Apply online or at a station." || len(ops) != 2 ||
			ops[0].(map[string]any)["verdict"] != "adopted" || ops[1].(map[string]any)["answer"] != "Four hours, not two." {
			t.Errorf("GET %s = %s; want the final, two opinions with their answers", base, rec.body)
		}
		for _, secret := range append(receipts, "receipt", "published_by", "answered_by", "127.0.0.1") {
			if strings.Contains(string(rec.body), secret) {
				t.Errorf("GET %s carries %q: %s", base, secret, rec.body)
			}
		}
		got := s.do("POST", "/api/v1/consultations/receipt", "", "", `{"receipt":"`+receipts[1]+`"}`)
		if got.status != 200 || got.json(t)["verdict"] != "partly_adopted" {
			t.Errorf("receipt lookup = %d %s; want 200 partly_adopted", got.status, got.body)
		}
		list := s.do("GET", "/api/v1/consultations", "", "", "")
		if list.status != 200 || !strings.Contains(string(list.body), `"unanswered":0`) {
			t.Errorf("GET /consultations = %d %s; want 200 with the counts", list.status, list.body)
		}
	})
}

// TestAttackOpinionForm attacks the anonymous opinion form: a flood from one address, oversized
// and hidden text, fields that would carry personal data, markup, guessed receipts, and the
// police's actions without a login. None gets through; the record carries what was submitted
// and nothing about who submitted it.
func TestAttackOpinionForm(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := consultationStack(t, db, 3)
		_, admin := s.addUser("admin1", auth.RoleAdmin, "")
		res := s.do("POST", "/api/v1/consultations", admin, "", consultationJSON(s.Clock.Now().Add(24*time.Hour)))
		id := res.json(t)["id"].(string)
		path := "/api/v1/consultations/" + id + "/opinions"

		attacks := []struct {
			name, ctype, body string
			status            int
			code              string
		}{
			{"markup is taken as text", "", `{"text":"<script>alert(1)</script>"}`, 201, ""},
			{"a field for a name", "", `{"text":"x","name":"Zhang San"}`, 400, ""},
			{"a field for a phone", "", `{"text":"x","phone":"13800000000"}`, 400, ""},
			{"text over the bound", "", `{"text":"` + strings.Repeat("长", 3000) + `"}`, 413, "too_large"},
			{"a body over the bound", "", `{"text":"` + strings.Repeat("x", 2<<20) + `"}`, 413, "too_large"},
			{"hidden bidi text", "", `{"text":"ok \u202e txet neddih"}`, 400, "invalid"},
			{"a NUL", "", `{"text":"a\u0000b"}`, 400, "invalid"},
			{"not JSON", "text/plain", `text=hello`, 415, ""},
			{"two objects", "", `{"text":"a"}{"text":"b"}`, 400, ""},
			{"second from the address", "", `{"text":"two"}`, 201, ""},
			{"third from the address", "", `{"text":"three"}`, 201, ""},
			{"fourth from the address is throttled", "", `{"text":"four"}`, 429, "too_many_requests"},
		}
		for _, a := range attacks {
			res := s.do("POST", path, "", a.ctype, a.body)
			if res.status != a.status || (a.code != "" && res.errorCode() != a.code) {
				t.Errorf("%s: POST %s = %d %.200s; want %d %s", a.name, path, res.status, res.body, a.status, a.code)
			}
		}
		// The throttle names when to come back.
		req, _ := http.NewRequest("POST", s.srv.URL+path, strings.NewReader(`{"text":"five"}`))
		req.Header.Set("Content-Type", "application/json")
		if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != 429 || r.Header.Get("Retry-After") == "" {
			t.Errorf("throttled POST = %v, %v; want 429 with Retry-After", r, err)
		} else {
			r.Body.Close()
		}

		rec := s.do("GET", "/api/v1/consultations/"+id, "", "", "")
		if strings.Contains(string(rec.body), "<script>") || !strings.Contains(string(rec.body), `\u003cscript\u003e`) {
			t.Errorf("record = %s; want the markup as escaped text", rec.body)
		}
		if n := len(rec.json(t)["opinions"].([]any)); n != 3 {
			t.Errorf("record holds %d opinions; want the 3 accepted", n)
		}
		for _, guess := range []string{"AAAAAAAAAAAAAAAA", "", "' OR 1=1 --", strings.Repeat("A", 1000)} {
			if res := s.do("POST", "/api/v1/consultations/receipt", "", "", `{"receipt":"`+guess+`"}`); res.status != 404 {
				t.Errorf("receipt %q = %d %s; want 404", guess, res.status, res.body)
			}
		}
		for _, p := range []string{"/api/v1/consultations/" + id + "/final", "/api/v1/consultations"} {
			if res := s.do("POST", p, "", "", `{"final":"F","title":"T","draft":"D"}`); res.status != 401 {
				t.Errorf("anonymous POST %s = %d; want 401", p, res.status)
			}
		}
		if res := s.do("GET", "/api/v1/consultations/..%2F..%2Fetc", "", "", ""); res.status != 404 {
			t.Errorf("GET a malformed id = %d; want 404", res.status)
		}
	})
}
