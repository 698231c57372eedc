// Package registry holds the city's cameras and the organisations that own them: their types,
// the validation of what users submit, the CSV import format, and the service that applies the
// policy pack and keeps the spatial index in step with the store.
package registry

import (
	"crypto/rand"
	"fmt"
	"time"
)

// Organisation kinds.
const (
	KindDepartment    = "department"
	KindEnterprise    = "enterprise"
	KindEstablishment = "establishment"
)

// DepartmentTypes are the government departments that own cameras (REG-3).
var DepartmentTypes = []string{
	"public_security", "urban_management", "emergency_management", "administrative_approval",
	"transportation", "agriculture_rural", "water_conservancy", "other",
}

// EstablishmentTypes are the kinds of places whose managers own cameras; some of them hold
// prohibited private spaces (REG-2).
var EstablishmentTypes = []string{
	"hotel", "collective_dormitory", "public_bath", "shopping_mall", "fitting_room_retail",
	"residential_compound", "entertainment_venue", "hospital", "school", "bank", "other",
}

// Investment types (REG-4).
const (
	InvestmentGovernment = "government"
	InvestmentPrivate    = "private"
)

// Camera statuses: planned → active → decommissioned.
const (
	StatusPlanned        = "planned"
	StatusActive         = "active"
	StatusDecommissioned = "decommissioned"
)

// Organisation is a department, enterprise or establishment that owns cameras.
type Organisation struct {
	ID                string    `json:"id"`
	Name              string    `json:"name"`
	Kind              string    `json:"kind"`
	DepartmentType    string    `json:"department_type,omitempty"`
	EstablishmentType string    `json:"establishment_type,omitempty"`
	CreatedAt         time.Time `json:"created_at,omitzero"`
	UpdatedAt         time.Time `json:"updated_at,omitzero"`
}

// Camera is one registered camera. SourceURL may hold credentials; it leaves the server only
// through Public, which strips them.
type Camera struct {
	ID                      string    `json:"id"`
	Name                    string    `json:"name"`
	OrganisationID          string    `json:"organisation_id"`
	Investment              string    `json:"investment"`
	Lat                     float64   `json:"lat"`
	Lon                     float64   `json:"lon"`
	Address                 string    `json:"address"`
	PlaceCategory           string    `json:"place_category"`
	Bearing                 float64   `json:"bearing"`
	FOVAngle                float64   `json:"fov_angle"`
	RangeM                  float64   `json:"range_m"`
	SourceURL               string    `json:"source_url"`
	Networked               bool      `json:"networked"`
	InterfaceReserved       bool      `json:"interface_reserved"`
	SignInstalled           bool      `json:"sign_installed"`
	SignCheckedAt           time.Time `json:"sign_checked_at,omitzero"`
	RetentionDays           int       `json:"retention_days"`
	MaintenanceIntervalDays int       `json:"maintenance_interval_days"`
	LastMaintenanceAt       time.Time `json:"last_maintenance_at,omitzero"`
	Status                  string    `json:"status"`
	// LegalBasis is, for readers, the legal basis in force ("state_secrets, document X"): empty
	// while none is approved. Public fills it from Basis, which is what is stored.
	LegalBasis string           `json:"legal_basis"`
	Basis      LegalBasisRecord `json:"legal_basis_detail,omitzero"`
	GBDeviceID string           `json:"gb_device_id"`
	CreatedAt  time.Time        `json:"created_at"`
	UpdatedAt  time.Time        `json:"updated_at"`
}

// Legal basis statuses: proposed → approved or declined.
const (
	BasisPending  = "pending"
	BasisApproved = "approved"
	BasisDeclined = "declined"
)

// LegalBasisRecord is a camera's legal basis: one of the policy pack's legal bases and the
// document that applies it, proposed by one organisation and in force only once an admin of
// another public-security organisation approves it. A basis migrated from free text has no ID
// until it is proposed again.
type LegalBasisRecord struct {
	ID                     string    `json:"id"`
	DocumentRef            string    `json:"document_ref"`
	Status                 string    `json:"status"`
	ProposedBy             string    `json:"proposed_by,omitempty"` // a user id
	ProposedOrganisationID string    `json:"proposed_organisation_id,omitempty"`
	ProposedAt             time.Time `json:"proposed_at,omitzero"`
	DecidedBy              string    `json:"decided_by,omitempty"`
	DecidedOrganisationID  string    `json:"decided_organisation_id,omitempty"`
	DecidedAt              time.Time `json:"decided_at,omitzero"`
	Note                   string    `json:"note,omitempty"` // why it was declined
}

// InForce reports whether the basis has been approved.
func (b LegalBasisRecord) InForce() bool { return b.Status == BasisApproved && b.ID != "" }

// Summary is the basis in force as one line, or "" when none is.
func (b LegalBasisRecord) Summary() string {
	if !b.InForce() {
		return ""
	}
	if b.DocumentRef == "" {
		return b.ID
	}
	return b.ID + ", document " + b.DocumentRef
}

// Public returns the camera as it may be shown to a user: the stream source without credentials.
func (c Camera) Public() Camera {
	c.SourceURL = RedactURL(c.SourceURL)
	c.LegalBasis = c.Basis.Summary()
	return c
}

// CameraFilter narrows a camera listing. Zero fields do not filter.
type CameraFilter struct {
	OrganisationID string
	Status         string
	PlaceCategory  string
	IDs            []string // when non-nil, only these
	Limit          int
	After          string // id cursor
}

// Scope limits what a caller may see and change: everything, or one organisation's objects.
type Scope struct {
	All            bool
	OrganisationID string
}

// Allows reports whether an object of organisation orgID is visible in the scope.
func (s Scope) Allows(orgID string) bool {
	return s.All || (s.OrganisationID != "" && s.OrganisationID == orgID)
}

// NewID returns a random (version 4) UUID. Ids are opaque to clients.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // the kernel's RNG does not fail on Linux
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
