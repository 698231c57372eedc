package registry

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// InvalidError reports input that is malformed: the request is wrong whatever the policy says.
type InvalidError struct {
	Field   string
	Message string
	// OutOfScope marks a reach into another organisation: bad input, and a denied access that
	// the trail records.
	OutOfScope bool
}

func (e *InvalidError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// CameraInput is what a user submits to create or change a camera. Nil fields are left as they
// are (on create: take their defaults), which is what gives PATCH its meaning.
type CameraInput struct {
	Name                    *string    `json:"name"`
	OrganisationID          *string    `json:"organisation_id"`
	Investment              *string    `json:"investment"`
	Lat                     *float64   `json:"lat"`
	Lon                     *float64   `json:"lon"`
	Address                 *string    `json:"address"`
	PlaceCategory           *string    `json:"place_category"`
	Bearing                 *float64   `json:"bearing"`
	FOVAngle                *float64   `json:"fov_angle"`
	RangeM                  *float64   `json:"range_m"`
	SourceURL               *string    `json:"source_url"`
	Networked               *bool      `json:"networked"`
	InterfaceReserved       *bool      `json:"interface_reserved"`
	SignInstalled           *bool      `json:"sign_installed"`
	SignCheckedAt           *time.Time `json:"sign_checked_at"`
	RetentionDays           *int       `json:"retention_days"`
	MaintenanceIntervalDays *int       `json:"maintenance_interval_days"`
	LastMaintenanceAt       *time.Time `json:"last_maintenance_at"`
	Status                  *string    `json:"status"`
	// LegalBasis was free text; any text but "" is refused. A basis is LegalBasisID (one of the
	// pack's) with LegalBasisDocumentRef, proposed here on create or through ProposeLegalBasis.
	LegalBasis            *string `json:"legal_basis"`
	LegalBasisID          *string `json:"legal_basis_id"`
	LegalBasisDocumentRef *string `json:"legal_basis_document_ref"`
	GBDeviceID            *string `json:"gb_device_id"`
}

// apply copies the set fields of in onto c.
func (in *CameraInput) apply(c *Camera) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	set(&c.Name, in.Name)
	set(&c.OrganisationID, in.OrganisationID)
	set(&c.Investment, in.Investment)
	set(&c.Address, in.Address)
	set(&c.PlaceCategory, in.PlaceCategory)
	set(&c.SourceURL, in.SourceURL)
	set(&c.Status, in.Status)
	set(&c.GBDeviceID, in.GBDeviceID)
	for _, f := range []struct {
		dst *float64
		src *float64
	}{{&c.Lat, in.Lat}, {&c.Lon, in.Lon}, {&c.Bearing, in.Bearing}, {&c.FOVAngle, in.FOVAngle}, {&c.RangeM, in.RangeM}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	for _, f := range []struct {
		dst *bool
		src *bool
	}{{&c.Networked, in.Networked}, {&c.InterfaceReserved, in.InterfaceReserved}, {&c.SignInstalled, in.SignInstalled}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if in.RetentionDays != nil {
		c.RetentionDays = *in.RetentionDays
	}
	if in.MaintenanceIntervalDays != nil {
		c.MaintenanceIntervalDays = *in.MaintenanceIntervalDays
	}
	if in.SignCheckedAt != nil {
		c.SignCheckedAt = in.SignCheckedAt.UTC()
	}
	if in.LastMaintenanceAt != nil {
		c.LastMaintenanceAt = in.LastMaintenanceAt.UTC()
	}
}

// ValidateCamera checks the shape of a camera, field by field, independent of the policy pack.
func ValidateCamera(c *Camera) error { return validateCamera(c, false) }

// validateCamera is ValidateCamera; noPlace admits a planned camera without a place category yet
// (a channel of an adopted GB/T 28181 device, to be completed before activation).
func validateCamera(c *Camera, noPlace bool) error {
	if c.Name == "" {
		return invalid("name", "is required")
	}
	if utf8.RuneCountInString(c.Name) > 200 {
		return invalid("name", "is longer than 200 characters")
	}
	if c.OrganisationID == "" {
		return invalid("organisation_id", "is required")
	}
	if !ValidID(c.OrganisationID) {
		return invalid("organisation_id", "is not a valid id")
	}
	if c.Investment != InvestmentGovernment && c.Investment != InvestmentPrivate {
		return invalid("investment", "must be %q or %q", InvestmentGovernment, InvestmentPrivate)
	}
	if err := ValidateLatLon(c.Lat, c.Lon); err != nil {
		return err
	}
	if utf8.RuneCountInString(c.Address) > 500 {
		return invalid("address", "is longer than 500 characters")
	}
	if c.PlaceCategory == "" && !(noPlace && c.Status == StatusPlanned) {
		return invalid("place_category", "is required")
	}
	if !finite(c.Bearing) || c.Bearing < 0 || c.Bearing >= 360 {
		return invalid("bearing", "must be in [0, 360) degrees")
	}
	if !finite(c.FOVAngle) || c.FOVAngle < 0 || c.FOVAngle > 360 {
		return invalid("fov_angle", "must be in [0, 360] degrees")
	}
	if !finite(c.RangeM) || c.RangeM < 0 || c.RangeM > 10000 {
		return invalid("range_m", "must be in [0, 10000] metres")
	}
	if c.SourceURL != "" {
		if err := ValidateSourceURL(c.SourceURL); err != nil {
			return err
		}
	}
	if c.RetentionDays < 1 || c.RetentionDays > 3650 {
		return invalid("retention_days", "must be between 1 and 3650")
	}
	if c.MaintenanceIntervalDays < 0 || c.MaintenanceIntervalDays > 3650 {
		return invalid("maintenance_interval_days", "must be between 0 (policy default) and 3650")
	}
	if !slices.Contains([]string{StatusPlanned, StatusActive, StatusDecommissioned}, c.Status) {
		return invalid("status", "must be planned, active or decommissioned")
	}
	if utf8.RuneCountInString(c.Basis.DocumentRef) > 1000 {
		return invalid("legal_basis_document_ref", "is longer than 1000 characters")
	}
	if c.GBDeviceID != "" {
		if err := ValidateGBDeviceID(c.GBDeviceID); err != nil {
			return &InvalidError{Field: "gb_device_id", Message: err.Error()}
		}
	}
	return nil
}

// ValidateStatusChange enforces planned → active → decommissioned; a decommissioned camera
// stays so (its recordings and trace remain, but it is not brought back under the same id).
func ValidateStatusChange(from, to string) error {
	if from == to {
		return nil
	}
	ok := (from == StatusPlanned && (to == StatusActive || to == StatusDecommissioned)) ||
		(from == StatusActive && to == StatusDecommissioned)
	if !ok {
		return invalid("status", "cannot change from %s to %s", from, to)
	}
	return nil
}

// ValidateLatLon checks a WGS-84 position.
func ValidateLatLon(lat, lon float64) error {
	if !finite(lat) || lat < -90 || lat > 90 {
		return invalid("lat", "must be a latitude in [-90, 90]")
	}
	if !finite(lon) || lon < -180 || lon > 180 {
		return invalid("lon", "must be a longitude in [-180, 180]")
	}
	return nil
}

// ValidateSourceURL accepts the stream sources civicam can pull.
func ValidateSourceURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return invalid("source_url", "is not a URL")
	}
	switch u.Scheme {
	case "rtsp", "rtsps", "gb28181":
	default:
		return invalid("source_url", "scheme must be rtsp, rtsps or gb28181")
	}
	if u.Host == "" {
		return invalid("source_url", "has no host")
	}
	return nil
}

// RedactURL removes credentials from a URL — its user info, and every query value; an
// unparsable value is withheld entirely rather than risk echoing a password.
func RedactURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	u.User = nil
	u.Fragment, u.RawFragment = "", ""
	// Cameras take credentials in the query too (…?user=admin&password=…): every value is
	// masked, the names kept, so a reader sees what the source asks for but not its secrets.
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			if k, _, ok := strings.Cut(p, "="); ok {
				parts[i] = k + "=***"
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	return u.String()
}

// provinceCodes are the first two digits of China's administrative division codes, which open
// every GB/T 28181 device id.
var provinceCodes = map[string]bool{}

func init() {
	for _, p := range []string{"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35",
		"36", "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
		"65", "71", "81", "82"} {
		provinceCodes[p] = true
	}
}

// ValidateGBDeviceID checks a GB/T 28181 device id: 20 digits, being an 8-digit administrative
// centre code (starting with a real province code), a 2-digit industry code, a 3-digit type code
// (111–199 for front-end devices such as 131 camera and 132 network camera), a network digit and
// a 6-digit serial number.
func ValidateGBDeviceID(id string) error {
	if len(id) != 20 {
		return fmt.Errorf("must be 20 digits, got %d characters", len(id))
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return fmt.Errorf("must be digits only, found %q at position %d", id[i], i+1)
		}
	}
	if !provinceCodes[id[:2]] {
		return fmt.Errorf("administrative code %s does not start with a province code", id[:8])
	}
	if t := id[10:13]; t < "111" || t > "199" {
		return fmt.Errorf("type code %s is not a front-end device (111-199)", t)
	}
	return nil
}

// ValidID reports whether s looks like an id civicam issued (a lowercase UUID). Checking the form
// before a lookup keeps odd strings out of queries and logs.
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// ValidateOrganisation checks an organisation's kind and type fields.
func ValidateOrganisation(o *Organisation) error {
	o.Name = strings.TrimSpace(o.Name)
	if o.Name == "" {
		return invalid("name", "is required")
	}
	if utf8.RuneCountInString(o.Name) > 200 {
		return invalid("name", "is longer than 200 characters")
	}
	switch o.Kind {
	case KindDepartment:
		if !slices.Contains(DepartmentTypes, o.DepartmentType) {
			return invalid("department_type", "must be one of %s", strings.Join(DepartmentTypes, ", "))
		}
		if o.EstablishmentType != "" {
			return invalid("establishment_type", "is only for establishments")
		}
	case KindEstablishment:
		if !slices.Contains(EstablishmentTypes, o.EstablishmentType) {
			return invalid("establishment_type", "must be one of %s", strings.Join(EstablishmentTypes, ", "))
		}
		if o.DepartmentType != "" {
			return invalid("department_type", "is only for departments")
		}
	case KindEnterprise:
		if o.DepartmentType != "" {
			return invalid("department_type", "is only for departments")
		}
		if o.EstablishmentType != "" {
			return invalid("establishment_type", "is only for establishments")
		}
	default:
		return invalid("kind", "must be department, enterprise or establishment")
	}
	return nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// ErrForbidden is returned when the caller's scope does not cover the change it asks for.
var ErrForbidden = errors.New("forbidden")
