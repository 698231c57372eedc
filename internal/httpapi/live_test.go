package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/httpapi/apitest"
	"civicam/internal/live"
	"civicam/internal/live/livetest"
	"civicam/internal/store/storetest"
)

// liveStack is the API with a recorder recording a simulated camera and the live service fed by
// it, as the app wires them.
type liveStack struct {
	*stack
	svc              *live.Service
	adminTok         string
	orgA, orgB, camA string
}

func newLiveStack(t *testing.T) *liveStack {
	t.Helper()
	db := storetest.SQLite(t)
	st := apitest.New(t, db)
	rig := livetest.NewRig(t, live.Config{}, livetest.RigDeps{Index: db, Logins: db})
	rec, svc := rig.Recorder, rig.Live
	api := st.NewAPI(t, apitest.Parts{Recorder: rec, Live: svc})
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	s := &liveStack{stack: &stack{Stack: st, t: t, db: db, reg: st.Registry, trail: st.Trail, api: api, srv: srv}, svc: svc}
	_, s.adminTok = s.addUser("admin1", auth.RoleAdmin, "")
	s.orgA = mustCreate(t, s.do("POST", "/api/v1/organisations", s.adminTok, "", `{"name":"PSB","kind":"department","department_type":"public_security"}`))
	s.orgB = mustCreate(t, s.do("POST", "/api/v1/organisations", s.adminTok, "", `{"name":"Hotel","kind":"establishment","establishment_type":"hotel"}`))
	s.camA = mustCreate(t, s.do("POST", "/api/v1/cameras", s.adminTok, "", cameraJSON(s.orgA, "A1", "public_square")))
	rig.Record(t, s.camA)
	return s
}

type whepResult struct {
	status   int
	location string
	body     string
}

// offer posts a viewer's offer as a client with a bearer token would.
func (s *liveStack) offer(token, query, ctype, sdp string) whepResult {
	s.t.Helper()
	req, err := http.NewRequest("POST", s.srv.URL+"/api/v1/cameras/"+s.camA+"/whep"+query, strings.NewReader(sdp))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return whepResult{res.StatusCode, res.Header.Get("Location"), string(b)}
}

// watch connects a viewer with token and waits for its first keyframe.
func (s *liveStack) watch(ctx context.Context, token string) (*livetest.Viewer, whepResult) {
	s.t.Helper()
	v, err := livetest.NewViewer(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { v.Close() })
	r := s.offer(token, "?purpose=patrol", "application/sdp", v.Offer)
	if r.status != http.StatusCreated {
		s.t.Fatalf("POST whep = %d %s; want 201", r.status, r.body)
	}
	if err := v.Accept(r.body); err != nil {
		s.t.Fatalf("Accept = %v", err)
	}
	au, err := v.Next(ctx)
	if err != nil {
		s.t.Fatalf("no frame: %v", err)
	}
	if !au.Key() {
		s.t.Fatalf("first frame is not a keyframe with SPS and PPS")
	}
	return v, r
}

func TestWHEPByRole(t *testing.T) {
	s := newLiveStack(t)
	_, opTok := s.addUser("op1", auth.RoleOperator, s.orgA)
	_, ownerTok := s.addUser("owner1", auth.RoleOwner, s.orgB)
	_, revTok := s.addUser("rev1", auth.RoleReviewer, "")
	_, audTok := s.addUser("aud1", auth.RoleAuditor, "")
	_, appTok := s.addUser("app1", auth.RoleApplicant, "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	v, err := livetest.NewViewer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()

	tests := []struct {
		name, token, query, ctype string
		wantStatus                int
		wantActions               []string
	}{
		{"admin", s.adminTok, "?purpose=patrol", "application/sdp", 201, []string{"live_view"}},
		{"operator of the camera's organisation", opTok, "?purpose=patrol", "application/sdp", 201, []string{"live_view"}},
		{"owner of another organisation", ownerTok, "?purpose=patrol", "application/sdp", 404, []string{"live_view:denied"}},
		{"reviewer", revTok, "?purpose=patrol", "application/sdp", 403, []string{"live_view:denied"}},
		{"auditor", audTok, "?purpose=patrol", "application/sdp", 403, []string{"live_view:denied"}},
		{"applicant", appTok, "?purpose=patrol", "application/sdp", 403, []string{"access_denied:denied"}},
		{"anonymous", "", "?purpose=patrol", "application/sdp", 401, []string{"access_denied:denied"}},
		{"no purpose", s.adminTok, "", "application/sdp", 400, []string{"live_view:denied"}},
		{"not sdp", s.adminTok, "?purpose=patrol", "application/json", 415, []string{"live_view:denied"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := s.size()
			r := s.offer(tc.token, tc.query, tc.ctype, v.Offer)
			if r.status != tc.wantStatus {
				t.Fatalf("POST whep = %d %s; want %d", r.status, r.body, tc.wantStatus)
			}
			var got []string
			for _, e := range s.entriesSince(n) {
				a := string(e.Action)
				if e.Outcome == "denied" {
					a += ":denied"
				}
				got = append(got, a)
				if e.Action == "live_view" && e.Outcome == "allowed" {
					if !slices.Equal(e.CameraIDs, []string{s.camA}) || e.Purpose != "patrol" || !strings.HasSuffix(r.location, "/"+e.Reference) {
						t.Errorf("trail entry camera %v purpose %q reference %q; want %s, patrol, the session of %s", e.CameraIDs, e.Purpose, e.Reference, s.camA, r.location)
					}
				}
			}
			if !slices.Equal(got, tc.wantActions) {
				t.Errorf("trail = %v; want %v", got, tc.wantActions)
			}
			if tc.wantStatus == 201 {
				if !strings.HasPrefix(r.location, "/api/v1/cameras/"+s.camA+"/whep/") || !strings.HasPrefix(r.body, "v=0") {
					t.Errorf("201 with Location %q and body %.40q; want the session URL and an SDP answer", r.location, r.body)
				}
				// End it through its resource: another user may not, its viewer may.
				if got := s.do("DELETE", r.location, ownerTok, "", "").status; got != 404 {
					t.Errorf("DELETE by another user = %d; want 404", got)
				}
				if got := s.do("DELETE", r.location, tc.token, "", "").status; got != 204 {
					t.Errorf("DELETE by its viewer = %d; want 204", got)
				}
			}
		})
	}
	if n := len(s.svc.Sessions()); n != 0 {
		t.Errorf("%d live sessions left; want 0", n)
	}
}

// TestWHEPTrailDown: when the look cannot be traced, no answer is given and no session stays.
func TestWHEPTrailDown(t *testing.T) {
	s := newLiveStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := livetest.NewViewer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	s.Tracer.Fail.Store(true)
	r := s.offer(s.adminTok, "?purpose=patrol", "application/sdp", v.Offer)
	s.Tracer.Fail.Store(false)
	if r.status != http.StatusServiceUnavailable || strings.HasPrefix(r.body, "v=0") {
		t.Fatalf("POST whep with the trail down = %d %.60q; want 503 without an answer", r.status, r.body)
	}
	if n := len(s.svc.Sessions()); n != 0 {
		t.Errorf("%d live sessions after the refusal; want 0", n)
	}
}

// TestLiveEndsWithLogin: logging out, a role change and disabling the account each close the
// viewer's connection.
func TestLiveEndsWithLogin(t *testing.T) {
	s := newLiveStack(t)
	tests := []struct {
		name string
		end  func(userID, token string)
	}{
		{"logout", func(_, token string) {
			if got := s.do("DELETE", "/api/v1/sessions/current", token, "", "").status; got != 204 {
				t.Fatalf("logout = %d; want 204", got)
			}
		}},
		{"role change", func(id, _ string) {
			if got := s.do("PATCH", "/api/v1/users/"+id, s.adminTok, "", `{"role":"auditor"}`).status; got != 200 {
				t.Fatalf("role change = %d; want 200", got)
			}
		}},
		{"disabled", func(id, _ string) {
			if got := s.do("PATCH", "/api/v1/users/"+id, s.adminTok, "", `{"disabled":true}`).status; got != 200 {
				t.Fatalf("disable = %d; want 200", got)
			}
		}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, tok := s.addUser("op"+string(rune('a'+i)), auth.RoleOperator, s.orgA)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			v, _ := s.watch(ctx, tok)
			start := time.Now()
			tc.end(id, tok)
			select {
			case <-v.Closed():
				t.Logf("the viewer saw its connection close %v after the %s", time.Since(start).Round(time.Millisecond), tc.name)
			case <-ctx.Done():
				t.Fatalf("the viewer's connection is still open after the %s", tc.name)
			}
		})
	}
}
