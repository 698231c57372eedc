// Package auth holds who may do what, and the security primitives behind it: roles, password
// hashing (argon2id), bearer tokens that the server knows only by their hash, a login
// throttle, and CSRF tokens for the web UI.
//
// The package does no I/O: the store keeps users and sessions, the HTTP layer calls these
// functions. Everything that depends on time takes a clock, so tests can drive it.
package auth

import (
	"fmt"
	"strings"
)

// Role is what a user is, and so what it may do (SPEC §2).
type Role string

// The roles. The public (unauthenticated) is not a role: it has no account.
const (
	RoleAdmin     Role = "admin"     // the platform team: organisations, users, policy packs
	RoleOperator  Role = "operator"  // a department's video operator: its organisation's cameras
	RoleOwner     Role = "owner"     // an enterprise's or establishment's camera manager
	RoleReviewer  Role = "reviewer"  // a police officer handling lost-person applications
	RoleAuditor   Role = "auditor"   // a supervisor: reads every trace and report, never footage
	RoleApplicant Role = "applicant" // a citizen following its own applications
)

// Roles returns every role, in a fixed order.
func Roles() []Role {
	return []Role{RoleAdmin, RoleOperator, RoleOwner, RoleReviewer, RoleAuditor, RoleApplicant}
}

// ParseRole returns the role named s exactly (roles are lower case, as the API spells them).
func ParseRole(s string) (Role, error) {
	for _, r := range Roles() {
		if string(r) == s {
			return r, nil
		}
	}
	names := make([]string, 0, 6)
	for _, r := range Roles() {
		names = append(names, string(r))
	}
	return "", fmt.Errorf("unknown role %q: want one of %s", s, strings.Join(names, ", "))
}

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool {
	_, err := ParseRole(string(r))
	return err == nil
}

// OrgScoped reports whether a user of this role acts only within its own organisation (its
// cameras, its grants), so that it must have one.
func (r Role) OrgScoped() bool {
	return r == RoleOperator || r == RoleOwner
}
