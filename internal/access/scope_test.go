package access

import (
	"testing"

	"civicam/internal/auth"
	"civicam/internal/registry"
)

func TestScopes(t *testing.T) {
	const org = "0190a0b0-0000-7000-8000-000000000001"
	city, own := registry.Scope{All: true}, registry.Scope{OrganisationID: org}
	tests := []struct {
		role        auth.Role
		read, write registry.Scope
	}{
		{auth.RoleAdmin, city, city},
		{auth.RoleAuditor, city, registry.Scope{}},
		{auth.RoleReviewer, city, registry.Scope{}},
		{auth.RoleOperator, own, own},
		{auth.RoleOwner, own, own},
		{auth.RoleApplicant, own, registry.Scope{}},
	}
	for _, tt := range tests {
		t.Run(string(tt.role), func(t *testing.T) {
			u := &auth.User{Role: tt.role, OrganisationID: org}
			if got := ScopeOf(u); got != tt.read {
				t.Errorf("ScopeOf(%s) = %+v; want %+v", tt.role, got, tt.read)
			}
			if got := WriteScope(u); got != tt.write {
				t.Errorf("WriteScope(%s) = %+v; want %+v", tt.role, got, tt.write)
			}
		})
	}
}
