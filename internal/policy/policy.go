// Package policy is the regulation as data. It parses a policy pack (see policies/zhuzhou.yaml),
// refuses a pack that is not exactly well-formed, and answers the questions the rest of civicam
// asks of the regulation: may this camera be registered or activated as described, what is wrong
// with it now, may this person apply for a search of the footage. Every answer names a rule of the
// pack and the pack's version, so that it can be traced to the text it applied.
//
// The package imports nothing else of civicam: callers convert their own records to CameraFacts.
// Another city is another pack, not another code path.
package policy

import (
	"slices"
	"strings"
	"time"
)

// Decision codes: a policy refusal, as returned by CheckCamera and CheckApplication. The API
// reports them as HTTP 422 with the code.
const (
	CodeProhibitedPlace      = "prohibited_place"
	CodeUnknownPlaceCategory = "unknown_place_category"
	CodeRetentionBelowFloor  = "retention_below_floor"
	CodeIneligibleSubject    = "ineligible_subject"
	CodeIneligibleApplicant  = "ineligible_applicant"
	CodeNotNetworked         = "not_networked"
	CodeNoNetworkInterface   = "no_network_interface"
	CodeNoSign               = "no_sign"
	CodeMaintenanceOverdue   = "maintenance_overdue"
	// CodeDuplicateCoverage: a planned camera's field of view is mostly seen by an existing
	// camera already, and the public security organ has not approved building it (REG-3).
	CodeDuplicateCoverage = "duplicate_coverage"
	// CodeSignCheckOverdue: a camera's reminder sign has not been checked within the pack's
	// signs.check_interval_days (REG-7).
	CodeSignCheckOverdue        = "sign_check_overdue"
	CodeProhibitedPlaceExempted = "prohibited_place_exempted"
	// CodeNetworkingExemptionPending: a government camera is not networked under a legal basis
	// that is not approved yet.
	CodeNetworkingExemptionPending = "networking_exemption_pending"
	// CodeSystemFilingOverdue: an accepted (active) camera is not filed with the public security
	// organ within the pack's system_filing.days of its acceptance.
	CodeSystemFilingOverdue = "system_filing_overdue"
	// CodeStorageBelowFloor: the storage a camera records to cannot hold the retention floor at
	// the current intake (package retention raises it).
	CodeStorageBelowFloor = "storage_below_floor"
	// CodeRecordingsWaitingForBucket: sealed recordings wait on local disk because the bucket
	// (recordings.s3) has not taken them; local disk fills meanwhile (storage planner, issue 15).
	CodeRecordingsWaitingForBucket = "recordings_waiting_for_bucket"
)

// Camera JSON field names that decisions point at.
const (
	FieldPlaceCategory   = "place_category"
	FieldRetentionDays   = "retention_days"
	FieldRelationship    = "relationship"
	FieldSubjectCategory = "subject_category"
)

// Investment types and camera statuses as CameraFacts spells them.
const (
	InvestmentGovernment = "government"
	InvestmentPrivate    = "private"

	StatusPlanned        = "planned"
	StatusActive         = "active"
	StatusDecommissioned = "decommissioned"
)

// Kind is what the regulation makes of a place category.
type Kind string

// The kinds of place category.
const (
	KindKeyArea    Kind = "key_area"   // a key public-safety area: coverage is expected
	KindProhibited Kind = "prohibited" // a private space: cameras are refused without a legal basis
	KindOrdinary   Kind = "ordinary"   // neither expected nor banned
)

// Duty is what the pack asks of a camera about the shared platform.
type Duty string

// The networking duties.
const (
	DutyNetworked         Duty = "networked"          // must be connected, unless a legal basis is recorded
	DutyInterfaceReserved Duty = "interface_reserved" // must keep an interface; connecting is optional
	DutyNone              Duty = "none"
)

// Regulation identifies the legal text a pack implements.
type Regulation struct {
	Name         string
	NameZH       string
	Jurisdiction string
	InForce      time.Time // a date, UTC midnight
	TimeZone     string    // the city's IANA zone (DefaultTimeZone when the pack names none)
}

// Rule is one rule of the regulation as the pack states it. ID is stable: decisions and findings
// already stored carry it.
type Rule struct {
	ID          string
	Requirement string // the SPEC requirement it implements, e.g. "REG-2"; may be empty
	Title       string
	Text        string // what the regulation says (a summary)
	TextZH      string
	Reason      string // why, for the person who is refused
	ReasonZH    string
}

// Category is a place category a camera is registered under.
type Category struct {
	ID      string
	Kind    Kind
	Label   string
	LabelZH string
	Rule    string // the rule that governs placement in this category
}

// NetworkingDuty is the duty for cameras of one investment type.
type NetworkingDuty struct {
	Investment string
	Duty       Duty
	Rule       string
}

// Decision is a refusal: the change asked for is not allowed by the pack.
type Decision struct {
	Code          string `json:"code"`
	Rule          string `json:"rule"`
	PolicyVersion string `json:"policy_version"`
	Reason        string `json:"reason"`
	Field         string `json:"field,omitempty"` // the JSON field at fault
}

// Finding is one compliance problem (or, for prohibited_place_exempted, a notice) about a camera
// as it stands.
type Finding struct {
	Code          string `json:"code"`
	Rule          string `json:"rule"`
	Message       string `json:"message"`
	PolicyVersion string `json:"policy_version"`
}

// CameraFacts is what the pack needs to know about a camera. Callers fill it from their own
// records; zero values mean "no", "none" or "never".
type CameraFacts struct {
	PlaceCategory      string
	Investment         string // InvestmentGovernment or InvestmentPrivate
	Status             string // StatusPlanned, StatusActive or StatusDecommissioned
	Networked          bool
	InterfaceReserved  bool
	SignInstalled      bool
	SignCheckedAt      time.Time // when the sign was last checked; zero: never
	RetentionDays      int
	LegalBasisID       string // one of the pack's legal bases, or ""
	LegalBasisApproved bool   // the basis was approved by a second organisation: only then is it in force
	// LegalBasisPending: a basis awaits a decision, perhaps without an id yet (one migrated from
	// the free text of older versions).
	LegalBasisPending       bool
	MaintenanceIntervalDays int // 0: the pack's interval
	LastMaintenanceAt       time.Time
	CreatedAt               time.Time
	// DuplicateOverlapPercent is the largest share of the camera's field of view that one other
	// camera already sees, as the duplicate check found it (0: none, or not checked), and
	// ConstructionApproved whether the public security organ approved building it anyway.
	DuplicateOverlapPercent float64
	ConstructionApproved    bool
	// AcceptedAt is when the camera was accepted into service (became active); zero: not known,
	// and no filing finding is raised. FiledAt is when its filing was recorded; zero: not filed.
	AcceptedAt time.Time
	FiledAt    time.Time
}

// Pack is a parsed, validated policy pack. It is immutable and safe for concurrent use.
type Pack struct {
	source  string
	version string
	digest  string

	regulation Regulation
	location   *time.Location // regulation.TimeZone, loaded
	rules      []Rule
	ruleByID   map[string]int

	placementRule  string
	prohibitedRule string
	categories     []Category
	categoryByID   map[string]int

	networking []NetworkingDuty

	retentionRule string
	floorDays     int
	floorLaw      string

	signsRule      string
	signsRequired  bool
	signsCheckDays int // 0: the pack sets no check interval

	maintenanceRule string
	maintenanceDays int
	health          HealthLimits

	applications Applications

	sharing map[string]SharingDefault // by department type

	options    Options
	legalBases []LegalBasis

	duplicateRule    string
	duplicatePercent float64 // 0: no duplicate-construction check
	filing           Filing
	inspections      Inspections
}

// Filing is the pack's rule on filing a completed system with the public security organ
// (Beijing: within 30 days of acceptance). A camera is the system filed: it is accepted when it
// becomes active, and each accepted camera is covered by a filing of its own organisation.
type Filing struct {
	Rule string
	Days int // 0: the pack asks for no filing
}

// SystemFiling returns the pack's filing rule; Days is 0 when the pack asks for none.
func (p *Pack) SystemFiling() Filing { return p.filing }

// Options are rules some cities add to the national ones, switched on by the pack's options.
type Options struct {
	// ExportRecipients: every export records where the copy went, its recipient's organisation,
	// person and case (Chongqing: "where copies went").
	ExportRecipients bool
	// ImportantFootageDays, when above 0, is how long footage under a hold of class important is
	// kept at least: such a hold is not released sooner after the footage it holds (Chongqing,
	// Xinjiang: important public-safety footage at least two years).
	ImportantFootageDays int
	// TwoPersonExport: an export is made only when a second user of the exporter's
	// organisation approves it, and both are named in the trail and the manifest (Chongqing:
	// officials using footage act in pairs).
	TwoPersonExport bool
}

// Options returns the pack's optional rules.
func (p *Pack) Options() Options { return p.options }

// SharingDefault is what government-invested cameras are shared with a department type by
// default, unless a camera records the law that forbids networking it.
type SharingDefault struct {
	DepartmentType string
	Scopes         []string // live, playback, export
	Rule           string
}

// DefaultSharing returns the scopes government-invested cameras give departments of the type by
// default; none when the pack names none.
func (p *Pack) DefaultSharing(departmentType string) []string {
	return append([]string(nil), p.sharing[departmentType].Scopes...)
}

// SharingDefaults lists the pack's sharing defaults, by department type.
func (p *Pack) SharingDefaults() []SharingDefault {
	out := make([]SharingDefault, 0, len(p.sharing))
	for _, d := range p.sharing {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b SharingDefault) int { return strings.Compare(a.DepartmentType, b.DepartmentType) })
	return out
}

// Version is the pack's version string; decisions carry it.
func (p *Pack) Version() string { return p.version }

// Source is where the pack was read from (a file path, or the embedded file's name).
func (p *Pack) Source() string { return p.source }

// Digest is the hex SHA-256 of the pack's bytes, so that a record can say exactly which text
// applied even if two files carry the same version string.
func (p *Pack) Digest() string { return p.digest }

// Regulation identifies the legal text the pack implements.
func (p *Pack) Regulation() Regulation { return p.regulation }

// Location is the city's time zone, in which people read and give times.
func (p *Pack) Location() *time.Location {
	if p.location == nil {
		return time.UTC // a Pack not made by Parse
	}
	return p.location
}

// Rules lists the pack's rules in file order.
func (p *Pack) Rules() []Rule { return append([]Rule(nil), p.rules...) }

// Rule looks a rule up by id.
func (p *Pack) Rule(id string) (Rule, bool) {
	i, ok := p.ruleByID[id]
	if !ok {
		return Rule{}, false
	}
	return p.rules[i], true
}

// Categories lists the place categories in file order.
func (p *Pack) Categories() []Category { return append([]Category(nil), p.categories...) }

// Category looks a place category up by id.
func (p *Pack) Category(id string) (Category, bool) {
	i, ok := p.categoryByID[id]
	if !ok {
		return Category{}, false
	}
	return p.categories[i], true
}

// IsProhibited reports whether id is a prohibited place category of the pack.
func (p *Pack) IsProhibited(id string) bool {
	c, ok := p.Category(id)
	return ok && c.Kind == KindProhibited
}

// IsKeyArea reports whether id is a key-area place category of the pack.
func (p *Pack) IsKeyArea(id string) bool {
	c, ok := p.Category(id)
	return ok && c.Kind == KindKeyArea
}

// Networking lists the networking duties by investment type.
func (p *Pack) Networking() []NetworkingDuty {
	return append([]NetworkingDuty(nil), p.networking...)
}

// NetworkingDuty is the duty for cameras of the given investment type; false if the pack sets
// none for it.
func (p *Pack) NetworkingDuty(investment string) (NetworkingDuty, bool) {
	for _, n := range p.networking {
		if n.Investment == investment {
			return n, true
		}
	}
	return NetworkingDuty{}, false
}

// NationalFloorDays is the national rule's shortest retention: a pack may set a shorter floor
// only by naming the law that allows it (retention.floor_law).
const NationalFloorDays = 30

// RetentionFloorDays is the shortest retention a camera may have.
func (p *Pack) RetentionFloorDays() int { return p.floorDays }

// RetentionFloorLaw is the law the pack names for a floor below NationalFloorDays ("" when the
// floor is not below it, or the pack names none).
func (p *Pack) RetentionFloorLaw() string { return p.floorLaw }

// SignsRequired reports whether cameras must carry a reminder sign.
func (p *Pack) SignsRequired() bool { return p.signsRequired }

// HealthLimits are how long a camera may be offline, show a frozen picture (no new keyframe
// while it is meant to record), or miss recordings within a day, before a maintenance work order
// opens by itself (REG-5: maintained so that it keeps working).
type HealthLimits struct {
	Offline time.Duration
	Frozen  time.Duration
	Gaps    time.Duration // the recording missing within the last day, summed
}

// MaintenanceHealthLimits are the pack's health limits for automatic work orders.
func (p *Pack) MaintenanceHealthLimits() HealthLimits { return p.health }

// MaintenanceRule is the rule maintenance findings and work orders apply.
func (p *Pack) MaintenanceRule() string { return p.maintenanceRule }

// SignCheckIntervalDays is the longest a sign may go unchecked; 0 when the pack sets no interval.
func (p *Pack) SignCheckIntervalDays() int { return p.signsCheckDays }

// MaintenanceIntervalDays is the longest a camera may go without maintenance.
func (p *Pack) MaintenanceIntervalDays() int { return p.maintenanceDays }

// DuplicateOverlapPercent is the overlap, in percent of a proposed camera's field of view, above
// which it duplicates an existing camera; 0 when the pack has no duplicate-construction check.
func (p *Pack) DuplicateOverlapPercent() float64 { return p.duplicatePercent }

// DuplicateRule is the rule of the duplicate-construction check ("" when there is none).
func (p *Pack) DuplicateRule() string { return p.duplicateRule }

// Duplicate reports whether c duplicates an existing camera without an approval to build it.
func (p *Pack) Duplicate(c CameraFacts) bool {
	return p.duplicatePercent > 0 && c.DuplicateOverlapPercent > p.duplicatePercent && !c.ConstructionApproved
}
