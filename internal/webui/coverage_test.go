package webui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"civicam/internal/auth"
	"civicam/internal/registry"
)

// TestDuplicatePage: an operator sees its planned camera's overlaps and owners, and only the
// public security organ's decision lets it be built.
func TestDuplicatePage(t *testing.T) {
	s := newStack(t)
	psb := s.addOrg("PSB", registry.KindDepartment, "public_security")
	um := s.addOrg("Urban management", registry.KindDepartment, "urban_management")
	s.addUser("umop", auth.RoleOperator, um)
	s.addUser("psbadmin", auth.RoleAdmin, psb)
	active := registry.StatusActive
	s.addCamera(psb, "PSB gate", 27.83, 113.15, func(in *registry.CameraInput) { in.Status = &active })
	cam := s.addCamera(um, "UM gate", 27.83, 113.15, nil)

	op := s.loggedIn("umop")
	mustContain(t, "planned camera page", op.get("/cameras/"+cam).body, `id="duplicate-link"`)
	page := op.get("/cameras/" + cam + "/duplicates")
	mustContain(t, "duplicate page", page.body, `id="duplicate-warning"`, "PSB gate", "PSB", "100%")
	mustNotContain(t, "operator's duplicate page", page.body, `id="construction-decision"`, "rtsp", "s3cr3t")

	admin := s.loggedIn("psbadmin")
	mustContain(t, "PSB admin's duplicate page", admin.get("/cameras/"+cam+"/duplicates").body, `id="construction-approve"`)
	if p := admin.post("/cameras/"+cam+"/construction-approval", url.Values{"decision": {"approve"}}); p.status != http.StatusSeeOther {
		t.Fatalf("approve = %d; want 303\n%.400s", p.status, p.body)
	}
	mustContain(t, "duplicate page after the approval", op.get("/cameras/"+cam+"/duplicates").body, `id="duplicate-clear"`, `id="duplicate-approval"`, "已批准")
}

// TestCoveragePage: the key places no camera reaches, in the table and on the map.
func TestCoveragePage(t *testing.T) {
	s := newStack(t)
	psb := s.addOrg("PSB", registry.KindDepartment, "public_security")
	s.addUser("op1", auth.RoleOperator, psb)
	if _, err := s.reg.ImportPlaces(setupCtx, "csv", strings.NewReader("name,place_category,lat,lon\nRailway station,transport_hub,27.9,113.2\n")); err != nil {
		t.Fatal(err)
	}
	page := s.loggedIn("op1").get("/coverage")
	mustContain(t, "coverage page", page.body, `id="coverage-table"`, "Railway station", "无在用摄像机覆盖", `class="map-place place-uncovered"`)
}
