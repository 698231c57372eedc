package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// grantJSON shares cam with grantee for live view and playback, open-ended from 2026.
func grantJSON(cam, grantee string) string {
	return fmt.Sprintf(`{"camera_ids":[%q],"grantee_organisation_id":%q,"scopes":["live","playback"],"purpose":"joint patrol","starts_at":"2026-01-01T00:00:00Z"}`, cam, grantee)
}

// TestRevokeEndsLive: a grantee watches another organisation's camera live under a grant (with a
// real WHEP client); revoking the grant closes the viewer's connection at once, from the
// revocation itself rather than the periodic re-check, and the trail says so.
func TestRevokeEndsLive(t *testing.T) {
	s := newLiveStack(t)
	_, ownerOp := s.addUser("psb-op", auth.RoleOperator, s.orgA)
	_, hotelOp := s.addUser("hotel-op", auth.RoleOperator, s.orgB)
	_, hotelOp2 := s.addUser("hotel-op2", auth.RoleOperator, s.orgB)

	if r := s.offer(hotelOp, "?purpose=patrol", "application/sdp", "v=0\r\n"); r.status != http.StatusNotFound {
		t.Fatalf("POST whep before any grant = %d %s; want 404", r.status, r.body)
	}
	grant := mustCreate(t, s.do("POST", "/api/v1/grants", ownerOp, "", grantJSON(s.camA, s.orgB)))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, _ := s.watch(ctx, hotelOp)
	v2, _ := s.watch(ctx, hotelOp2)
	// The camera's own organisation keeps watching: revocation ends only what the grant covered.
	mine, _ := s.watch(ctx, ownerOp)

	before := s.size()
	start := time.Now()
	if r := s.do("DELETE", "/api/v1/grants/"+grant, ownerOp, "", ""); r.status != http.StatusOK {
		t.Fatalf("DELETE grant = %d %s; want 200", r.status, r.body)
	}
	for i, viewer := range []interface{ Closed() <-chan struct{} }{v, v2} {
		select {
		case <-viewer.Closed():
			t.Logf("viewer %d saw its connection close %v after the revocation", i+1, time.Since(start).Round(time.Millisecond))
		case <-ctx.Done():
			t.Fatalf("viewer %d is still connected after the revocation", i+1)
		}
	}
	select {
	case <-mine.Closed():
		t.Errorf("the owner's own viewer was closed by the revocation")
	default:
	}
	// The revocation is traced before it takes effect, then each look it ended records its end
	// (issue 16: live views get their end time in the trail).
	es := s.entriesSince(before)
	if len(es) != 3 || es[0].Action != trace.ActionGrantRevoke || es[0].Reference != grant || !strings.Contains(es[0].Reason, "2 live view(s) ended") {
		t.Fatalf("trail after revocation = %+v; want one grant_revoke of %s that ended 2 live views, then their 2 ends", es, grant)
	}
	var enders []string
	for _, e := range es[1:] {
		if e.Action != trace.ActionLiveView || e.Outcome != trace.Allowed || e.To.IsZero() || e.To.Before(e.From) || !slices.Equal(e.CameraIDs, []string{s.camA}) {
			t.Errorf("trail entry after the revocation = %+v; want the end (To) of a live view of %s", e, s.camA)
		}
		enders = append(enders, e.Actor.Username)
	}
	if slices.Sort(enders); !slices.Equal(enders, []string{"hotel-op", "hotel-op2"}) {
		t.Errorf("live views ended by the revocation were %v's; want hotel-op's and hotel-op2's", enders)
	}
	if r := s.offer(hotelOp, "?purpose=patrol", "application/sdp", "v=0\r\n"); r.status != http.StatusNotFound {
		t.Errorf("POST whep after revocation = %d %s; want 404", r.status, r.body)
	}
}

// TestGrantsAPI: malformed grants are refused with the field at fault; a grant under terms no
// longer current is a conflict; the owner's access view lists the grantee's look with its grant,
// and the grantee cannot read it.
func TestGrantsAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newStack(t, db)
		_, adminTok := s.addUser("admin1", auth.RoleAdmin, "")
		orgA := mustCreate(t, s.do("POST", "/api/v1/organisations", adminTok, "", `{"name":"Mall Co","kind":"enterprise"}`))
		orgB := mustCreate(t, s.do("POST", "/api/v1/organisations", adminTok, "", `{"name":"Hotel","kind":"establishment","establishment_type":"hotel"}`))
		_, owner := s.addUser("mall-owner", auth.RoleOwner, orgA)
		_, hotel := s.addUser("hotel-op", auth.RoleOperator, orgB)
		cam := mustCreate(t, s.do("POST", "/api/v1/cameras", adminTok, "", cameraJSON(orgA, "Entrance", "shopping_mall")))

		bad := []struct{ name, body, field string }{
			{"no cameras", `{"grantee_organisation_id":"` + orgB + `","scopes":["live"],"purpose":"p","starts_at":"2026-01-01T00:00:00Z"}`, "camera_ids"},
			{"unknown scope", strings.Replace(grantJSON(cam, orgB), `"live"`, `"peek"`, 1), "scopes"},
			{"no purpose", strings.Replace(grantJSON(cam, orgB), `"joint patrol"`, `""`, 1), "purpose"},
			{"ends before it starts", strings.Replace(grantJSON(cam, orgB), `}`, `,"ends_at":"2025-01-01T00:00:00Z"}`, 1), "ends_at"},
			{"emergency for a hotel", strings.Replace(grantJSON(cam, orgB), `"live","playback"`, `"emergency"`, 1), "scopes"},
			{"to itself", grantJSON(cam, orgA), "grantee_organisation_id"},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				r := s.do("POST", "/api/v1/grants", owner, "", tc.body)
				if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), `"field":"`+tc.field+`"`) {
					t.Errorf("POST grants (%s) = %d %s; want 400 on %s", tc.name, r.status, r.body, tc.field)
				}
			})
		}
		if r := s.do("POST", "/api/v1/grants", owner, "", strings.Replace(grantJSON(cam, orgB), `}`, `,"terms_version":7}`, 1)); r.status != http.StatusConflict {
			t.Errorf("POST grants under terms version 7 = %d %s; want 409", r.status, r.body)
		}
		grant := mustCreate(t, s.do("POST", "/api/v1/grants", owner, "", grantJSON(cam, orgB)))
		play := "/api/v1/cameras/" + cam + "/playback.mp4?start=2026-01-01T00:00:00Z&end=2026-01-01T00:01:00Z&purpose="
		// This stack records nothing: an allowed look finds no footage (traced all the same, for
		// that nothing was recorded then is footage metadata); a refused one is hidden as not
		// found and traced.
		if r := s.do("GET", play+"lobby", hotel, "", ""); r.status != http.StatusNotFound || r.errorCode() != "no_footage" {
			t.Fatalf("playback under the grant = %d %s; want 404 no_footage", r.status, r.body)
		}
		if r := s.do("DELETE", "/api/v1/grants/"+grant, owner, "", ""); r.status != http.StatusOK {
			t.Fatalf("DELETE grant = %d %s; want 200", r.status, r.body)
		}
		if r := s.do("GET", play+"after", hotel, "", ""); r.status != http.StatusNotFound || r.errorCode() == "no_footage" {
			t.Fatalf("playback after revocation = %d %s; want 404 not_found", r.status, r.body)
		}
		r := s.do("GET", "/api/v1/grants/accesses", owner, "", "")
		if r.status != http.StatusOK {
			t.Fatalf("GET accesses = %d %s", r.status, r.body)
		}
		var view struct {
			Accesses []struct {
				Seq     int64  `json:"seq"`
				Action  string `json:"action"`
				Outcome string `json:"outcome"`
				GrantID string `json:"grant_id"`
				Purpose string `json:"purpose"`
			} `json:"accesses"`
		}
		if err := json.Unmarshal(r.body, &view); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range view.Accesses {
			if a.Action == "camera_create" {
				continue
			}
			got = append(got, a.Action+":"+a.Outcome+":"+a.Purpose+":"+a.GrantID)
		}
		if want := []string{"playback:allowed:lobby:" + grant, "playback:denied:after:"}; !slices.Equal(got, want) {
			t.Errorf("accesses = %v; want %v", got, want)
		}
		if r := s.do("GET", "/api/v1/grants/accesses", hotel, "", ""); r.status != http.StatusOK || strings.Contains(string(r.body), cam) {
			t.Errorf("GET accesses as the grantee = %d %s; want its own (empty) view, nothing of the owner's camera", r.status, r.body)
		}
	})
}

// TestFootageBasisInTrail: a look at another organisation's camera says in the trail under
// what it was allowed — the pack's default sharing, or an emergency grant, which covers a look
// only under a case reference and notifies the owner.
func TestFootageBasisInTrail(t *testing.T) {
	fs := newFootageStack(t)
	orgC := mustCreate(t, fs.do("POST", "/api/v1/organisations", fs.tokens["admin"], "",
		`{"name":"District PSB","kind":"department","department_type":"public_security"}`))
	_, opC := fs.addUser("district-op", auth.RoleOperator, orgC)
	seg := fs.segs[0]

	// Playback by the policy pack's default for government cameras.
	n := fs.size()
	res, _ := fs.get(fs.playbackURL(seg.Start, seg.End, "patrol"), opC)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("playback by a public-security department = %d; want 200 (pack default)", res.StatusCode)
	}
	es := fs.entriesSince(n)
	if len(es) != 1 || es[0].Action != trace.ActionPlayback || !strings.Contains(es[0].Reason, "policy pack's default") {
		t.Fatalf("trail after playback = %+v; want one playback entry naming the policy default", es)
	}

	exportBody := exportJSON(seg.Start, seg.End, "missing child", "CASE-7")
	exportPath := "/api/v1/cameras/" + fs.cam + "/exports"
	if r := fs.do("POST", exportPath, opC, "", exportBody); r.status != http.StatusNotFound {
		t.Fatalf("export without a grant = %d %s; want 404 (export is not in the pack's default)", r.status, r.body)
	}
	grant := mustCreate(t, fs.do("POST", "/api/v1/grants", fs.tokens["operator"], "", fmt.Sprintf(
		`{"camera_ids":[%q],"grantee_organisation_id":%q,"scopes":["emergency"],"purpose":"emergencies","starts_at":"2026-01-01T00:00:00Z"}`,
		fs.cam, orgC)))

	// An export names its case; under the emergency grant it is the case the grant's use is for.
	noCase := fs.do("POST", exportPath, opC, "", strings.Replace(exportBody, `"case_ref":"CASE-7"`, `"case_ref":""`, 1))
	if noCase.status != http.StatusBadRequest {
		t.Fatalf("export without a case reference = %d; want 400", noCase.status)
	}
	n = fs.size()
	if r := fs.do("POST", exportPath, opC, "", exportBody); r.status != http.StatusCreated {
		t.Fatalf("export under the emergency grant with a case = %d %s; want 201", r.status, r.body)
	}
	var found bool
	for _, e := range fs.entriesSince(n) {
		if e.Action == trace.ActionExport && e.Outcome == trace.Allowed {
			found = true
			if e.Reference != "CASE-7" || !strings.Contains(e.Reason, "EMERGENCY use under grant "+grant+" for case CASE-7") {
				t.Errorf("export entry = reference %q, reason %q; want the case and the emergency grant", e.Reference, e.Reason)
			}
		}
	}
	if !found {
		t.Fatal("no allowed export entry in the trail")
	}
	r := fs.do("GET", "/api/v1/sharing/notifications", fs.tokens["operator"], "", "")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), "CASE-7") {
		t.Fatalf("owner's notifications = %d %s; want the emergency use of CASE-7", r.status, r.body)
	}
}

// TestSharedCameraIsVisible: a camera shared with an organisation can be looked up by it, and
// stops being visible when the grant is revoked.
func TestSharedCameraIsVisible(t *testing.T) {
	fs := newFootageStack(t)
	path := "/api/v1/cameras/" + fs.cam
	if r := fs.do("GET", path, fs.tokens["owner"], "", ""); r.status != http.StatusNotFound {
		t.Fatalf("hotel owner GET PSB camera before a grant = %d; want 404", r.status)
	}
	var me struct {
		OrganisationID string `json:"organisation_id"`
	}
	json.Unmarshal(fs.do("GET", "/api/v1/me", fs.tokens["owner"], "", "").body, &me)
	grant := mustCreate(t, fs.do("POST", "/api/v1/grants", fs.tokens["operator"], "", grantJSON(fs.cam, me.OrganisationID)))
	if r := fs.do("GET", path, fs.tokens["owner"], "", ""); r.status != http.StatusOK {
		t.Fatalf("hotel owner GET shared camera = %d %s; want 200", r.status, r.body)
	}
	if r := fs.do("DELETE", "/api/v1/grants/"+grant, fs.tokens["operator"], "", ""); r.status != http.StatusOK {
		t.Fatalf("revoke = %d %s", r.status, r.body)
	}
	if r := fs.do("GET", path, fs.tokens["owner"], "", ""); r.status != http.StatusNotFound {
		t.Fatalf("hotel owner GET after revocation = %d; want 404", r.status)
	}
}
