package footage_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/footage"
	"civicam/internal/httpapi/apitest"
	"civicam/internal/registry"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// TestDecide checks who may look at a camera's recordings, and that every refusal is traced
// under the look's own action, once.
func TestDecide(t *testing.T) {
	st := apitest.New(t, storetest.SQLite(t))
	org := func(name, kind, typ string) string {
		o := &registry.Organisation{Name: name, Kind: kind}
		if kind == registry.KindDepartment {
			o.DepartmentType = typ
		} else {
			o.EstablishmentType = typ
		}
		if err := st.Registry.CreateOrganisation(apitest.SetupCtx, o); err != nil {
			t.Fatal(err)
		}
		return o.ID
	}
	psb := org("PSB", registry.KindDepartment, "public_security")
	hotel := org("Hotel", "establishment", "hotel")
	var in registry.CameraInput
	js := fmt.Sprintf(`{"name":"gate","organisation_id":%q,"investment":"private","lat":27.83,"lon":113.15,
		"place_category":"hotel_lobby","retention_days":30,"status":"active","networked":true,"sign_installed":true}`, hotel)
	if err := json.Unmarshal([]byte(js), &in); err != nil {
		t.Fatal(err)
	}
	cam, err := st.Registry.CreateCamera(apitest.SetupCtx, registry.Scope{All: true}, &in)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)
	req := footage.Request{CameraID: cam.ID, Start: t0, End: t0.Add(time.Minute), Purpose: "incident"}
	tests := []struct {
		name string
		u    *auth.User
		want error // nil: allowed; else the failure errors.Is sees
		kind fault.Kind
	}{
		{"admin", &auth.User{ID: registry.NewID(), Role: auth.RoleAdmin}, nil, 0},
		{"the owner", &auth.User{ID: registry.NewID(), Role: auth.RoleOwner, OrganisationID: hotel}, nil, 0},
		{"another organisation", &auth.User{ID: registry.NewID(), Role: auth.RoleOperator, OrganisationID: psb}, footage.ErrHidden, fault.NotFound},
		{"an auditor", &auth.User{ID: registry.NewID(), Role: auth.RoleAuditor}, nil, fault.Forbidden},
		{"a reviewer without an application", &auth.User{ID: registry.NewID(), Role: auth.RoleReviewer}, nil, fault.Forbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := st.Size(t)
			l, err := st.Footage.Decide(apitest.SetupCtx, tt.u, access.Playback, req)
			es := st.Entries(t, n)
			if tt.kind == 0 {
				if err != nil || l.Camera.ID != cam.ID {
					t.Fatalf("Decide(%s) = %v; want the look", tt.name, err)
				}
				if len(es) != 0 {
					t.Errorf("Decide(%s) traced %d entries; want none before the look is served", tt.name, len(es))
				}
				return
			}
			fe, ok := fault.As(err)
			if !ok || fe.Kind != tt.kind || !fe.Traced || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Decide(%s) = %v; want a traced %v failure", tt.name, err, tt.kind)
			}
			if len(es) != 1 || es[0].Action != trace.ActionPlayback || es[0].Outcome != trace.Denied {
				t.Errorf("Decide(%s) traced %+v; want one denied playback", tt.name, es)
			}
		})
	}
	if _, err := st.Footage.Decide(apitest.SetupCtx, tests[0].u, access.Playback, footage.Request{CameraID: registry.NewID(),
		Start: req.Start, End: req.End, Purpose: "x"}); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("Decide(no such camera) = %v; want fault.ErrNotFound", err)
	}
}
