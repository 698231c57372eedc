package webui

import (
	"net/http"
	"net/url"
	"testing"

	"civicam/internal/auth"
	"civicam/internal/registry"
)

// TestLegalBasisForms: the camera page proposes one of the pack's legal bases, and only an
// admin of another public-security organisation's approval puts it in force.
func TestLegalBasisForms(t *testing.T) {
	s := newStack(t)
	orgA := s.addOrg("PSB", registry.KindDepartment, "public_security")
	orgC := s.addOrg("District PSB", registry.KindDepartment, "public_security")
	s.addUser("op1", auth.RoleOperator, orgA)
	s.addUser("admin-a", auth.RoleAdmin, orgA)
	s.addUser("admin-c", auth.RoleAdmin, orgC)
	cam := s.addCamera(orgA, "Archive gate", 27.83, 113.15, nil)
	op := s.loggedIn("op1")

	page := op.get("/cameras/" + cam)
	mustContain(t, "camera page", page.body, `id="legal-basis"`, `id="basis-propose"`, `value="state_secrets"`)
	if p := op.post("/cameras/"+cam+"/legal-basis", url.Values{"basis_id": {"state_secrets"}, "document_ref": {"secrecy decision 9"}}); p.status != http.StatusSeeOther {
		t.Fatalf("propose = %d; want 303\n%.400s", p.status, p.body)
	}
	page = op.get("/cameras/" + cam)
	mustContain(t, "camera page with a pending basis", page.body, "secrecy decision 9", "待批准")
	mustNotContain(t, "operator's camera page", page.body, `id="basis-approve"`)

	p := s.loggedIn("admin-a").post("/cameras/"+cam+"/legal-basis/approve", url.Values{})
	if p.status != http.StatusForbidden {
		t.Fatalf("approve by the proposer's organisation = %d; want 403", p.status)
	}
	mustContain(t, "refused approval", p.body, `id="basis-error"`)

	adminC := s.loggedIn("admin-c")
	mustContain(t, "other PSB admin's camera page", adminC.get("/cameras/"+cam).body, `id="basis-approve"`)
	if p := adminC.post("/cameras/"+cam+"/legal-basis/approve", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("approve by another PSB = %d; want 303\n%.400s", p.status, p.body)
	}
	mustContain(t, "camera page with an approved basis", op.get("/cameras/"+cam).body, "已批准，生效中", "District PSB")
}
