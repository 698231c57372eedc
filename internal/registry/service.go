package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"civicam/internal/coverage"
	"civicam/internal/policy"
	"civicam/internal/spatial"
	"civicam/internal/trace"
)

// Repo is the storage the registry needs. Lookups take the caller's scope so that the database
// itself keeps organisations apart: a camera outside the scope is simply not found.
type Repo interface {
	CreateOrganisation(ctx context.Context, o *Organisation) error
	Organisation(ctx context.Context, id string) (*Organisation, error)
	OrganisationExists(ctx context.Context, id string) (bool, error)
	Organisations(ctx context.Context) ([]*Organisation, error)
	CreateCameras(ctx context.Context, cams []*Camera) error
	Camera(ctx context.Context, scope Scope, id string) (*Camera, error)
	Cameras(ctx context.Context, scope Scope, f CameraFilter) ([]*Camera, error)
	UpdateCamera(ctx context.Context, c *Camera) error
	CamerasUpdatedSince(ctx context.Context, t time.Time) ([]*Camera, error)
	FindingRepo
	SignRepo
	MaintenanceRepo
}

// PolicyError is a refusal by the policy pack, carrying its decisions (HTTP 422).
type PolicyError struct {
	Decisions []policy.Decision
}

func (e *PolicyError) Error() string {
	if len(e.Decisions) == 0 {
		return "refused by policy"
	}
	d := e.Decisions[0]
	return fmt.Sprintf("%s (%s, rule %s, policy %s): %s", d.Code, d.Field, d.Rule, d.PolicyVersion, d.Reason)
}

// Service applies validation, the policy pack and the trail to every registry change, and keeps
// the spatial index in step with the store.
type Service struct {
	repo     Repo
	findings FindingRepo
	pack     *policy.Pack
	index    *spatial.Index
	views    *coverage.Index // the fields of view beside index, which it keeps
	tracer   trace.Tracer    // called before each change; an error refuses it, so nothing changes untraced
	now      func() time.Time
	log      *slog.Logger
	filings  FilingRepo // nil: no acceptance or filing is kept

	syncMu sync.Mutex
	synced time.Time // when the last Load or Sync began

	approvalRepo  ApprovalRepo // nil: the store keeps no construction decisions
	sharingLookup SharingLookup
	approvalsMu   sync.RWMutex
	approvals     map[string]*ConstructionApproval // by camera id

	placeRepo PlaceRepo // nil: the store keeps no register of places
	liveness  Liveness
	statesMu  sync.RWMutex
	states    map[string]camState // of every camera in views, for the coverage report
}

// Deps are what a Service is built from.
type Deps struct {
	Repo   Repo
	Pack   *policy.Pack
	Tracer trace.Tracer
	Now    func() time.Time // defaults to time.Now
	Logger *slog.Logger
	// Filings keeps cameras' acceptance and filing (filing.go); nil keeps none.
	Filings FilingRepo
}

// New builds a Service; call Load before serving queries by position.
func New(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	idx := spatial.New()
	s := &Service{repo: d.Repo, findings: d.Repo, pack: d.Pack, index: idx, views: coverage.NewIndex(idx), tracer: d.Tracer, now: d.Now, log: d.Logger,
		approvals: map[string]*ConstructionApproval{}, states: map[string]camState{}, filings: d.Filings}
	s.approvalRepo, _ = d.Repo.(ApprovalRepo)
	s.placeRepo, _ = d.Repo.(PlaceRepo)
	return s
}

// Pack returns the policy pack in force.
func (s *Service) Pack() *policy.Pack { return s.pack }

// Load fills the spatial index from the store.
func (s *Service) Load(ctx context.Context) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	started := s.now()
	cams, err := s.repo.Cameras(ctx, Scope{All: true}, CameraFilter{})
	if err != nil {
		return fmt.Errorf("load cameras: %w", err)
	}
	for _, c := range cams {
		s.indexCamera(c)
	}
	if err := s.loadApprovals(ctx); err != nil {
		return err
	}
	if err := s.refreshFindings(ctx, cams); err != nil {
		return err
	}
	s.synced = started
	s.log.Info("spatial index loaded", "cameras", s.index.Len())
	return nil
}

// syncOverlap re-reads changes this far behind the last sync, so that a change stamped by a
// slightly slow clock or committed just after the previous poll is not missed; applying a
// change twice is harmless.
const syncOverlap = 10 * time.Second

// Sync applies to the spatial index the changes other processes made (another node, or the
// command line's import) since the last sync.
func (s *Service) Sync(ctx context.Context) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	started := s.now()
	cams, err := s.repo.CamerasUpdatedSince(ctx, s.synced.Add(-syncOverlap))
	if err != nil {
		return fmt.Errorf("sync cameras: %w", err)
	}
	for _, c := range cams {
		s.indexCamera(c)
	}
	if err := s.loadApprovals(ctx); err != nil {
		return err
	}
	// Another process changed these cameras; writing their findings again is harmless and heals
	// a write of findings that failed after its camera's.
	s.storeFindings(ctx, cams...)
	s.synced = started
	return nil
}

// Run keeps the spatial index in step with the store until ctx ends, polling every interval.
func (s *Service) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := s.Sync(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("registry sync", "err", err)
			}
		}
	}
}

func (s *Service) indexCamera(c *Camera) {
	s.statesMu.Lock()
	if c.Status == StatusDecommissioned {
		delete(s.states, c.ID)
	} else {
		s.states[c.ID] = camState{active: c.Status == StatusActive, networked: c.Networked}
	}
	s.statesMu.Unlock()
	if c.Status == StatusDecommissioned {
		s.views.Delete(c.ID)
		return
	}
	if err := s.views.Set(c.ID, viewOf(c)); err != nil {
		// Validation admits only positions the index takes; a failure here is a bug to see.
		s.log.Error("spatial index", "camera", c.ID, "err", err)
	}
}

// CreateOrganisation validates and stores a new organisation.
func (s *Service) CreateOrganisation(ctx context.Context, o *Organisation) error {
	if err := ValidateOrganisation(o); err != nil {
		return err
	}
	now := s.now().UTC()
	o.ID, o.CreatedAt, o.UpdatedAt = NewID(), now, now
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionOrganisationCreate, Outcome: trace.Allowed, Reason: organisationCreated(o)}); err != nil {
		return err
	}
	return s.repo.CreateOrganisation(ctx, o)
}

// organisationCreated says, for the trail, what a new organisation is: each field's value.
func organisationCreated(o *Organisation) string {
	r := "organisation " + o.ID + " created: name " + strconv.Quote(o.Name) + "; kind " + o.Kind
	if o.DepartmentType != "" {
		r += "; department_type " + o.DepartmentType
	}
	if o.EstablishmentType != "" {
		r += "; establishment_type " + o.EstablishmentType
	}
	return r
}

// Organisation returns one organisation.
func (s *Service) Organisation(ctx context.Context, id string) (*Organisation, error) {
	return s.repo.Organisation(ctx, id)
}

// Organisations lists all organisations.
func (s *Service) Organisations(ctx context.Context) ([]*Organisation, error) {
	return s.repo.Organisations(ctx)
}

// OrganisationsSeen lists the organisations as a caller with scope sees them: a caller whose
// scope is one organisation sees the others only as a grant form names them (id, name, kind).
func (s *Service) OrganisationsSeen(ctx context.Context, scope Scope) ([]*Organisation, error) {
	os, err := s.repo.Organisations(ctx)
	if err != nil {
		return nil, err
	}
	for i, o := range os {
		os[i] = o.seenFrom(scope)
	}
	return os, nil
}

// OrganisationSeen is one organisation as a caller with scope sees it (see OrganisationsSeen).
func (s *Service) OrganisationSeen(ctx context.Context, scope Scope, id string) (*Organisation, error) {
	o, err := s.repo.Organisation(ctx, id)
	if err != nil {
		return nil, err
	}
	return o.seenFrom(scope), nil
}

// seenFrom is o, or for a caller outside it who does not see the whole city, its name card.
func (o *Organisation) seenFrom(scope Scope) *Organisation {
	if scope.All || scope.OrganisationID == o.ID {
		return o
	}
	return &Organisation{ID: o.ID, Name: o.Name, Kind: o.Kind}
}

// newCamera builds a camera from input with the defaults a new camera takes, checked against
// the shape rules and the policy pack, but not yet stored or traced.
func (s *Service) newCamera(ctx context.Context, scope Scope, in *CameraInput) (*Camera, error) {
	c := &Camera{
		Status:        StatusPlanned,
		RetentionDays: s.pack.RetentionFloorDays(),
	}
	if !scope.All {
		c.OrganisationID = scope.OrganisationID
	}
	in.apply(c)
	if !scope.Allows(c.OrganisationID) {
		return nil, errOtherOrganisation
	}
	if err := s.applyBasisInput(ctx, c, in); err != nil {
		return nil, err
	}
	if err := ValidateCamera(c); err != nil {
		return nil, err
	}
	if err := s.checkDates(c, in, nil); err != nil {
		return nil, err
	}
	if c.Status == StatusDecommissioned {
		return nil, invalid("status", "a new camera cannot be decommissioned")
	}
	if err := s.requireOrganisation(ctx, c.OrganisationID); err != nil {
		return nil, err
	}
	if err := s.checkPolicy(c, c.Status == StatusActive); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	c.ID, c.CreatedAt, c.UpdatedAt = NewID(), now, now
	return c, nil
}

// requireOrganisation refuses a reference to an organisation that does not exist as bad input.
func (s *Service) requireOrganisation(ctx context.Context, id string) error {
	ok, err := s.repo.OrganisationExists(ctx, id)
	if err != nil {
		return fmt.Errorf("organisation %s: %w", id, err)
	}
	if !ok {
		return invalid("organisation_id", "no such organisation")
	}
	return nil
}

// checkPolicy asks the pack about c; activating says c becomes active now (created active, or
// leaving planned), when the duplicate-construction check applies.
func (s *Service) checkPolicy(c *Camera, activating bool) error {
	if c.Status == StatusDecommissioned {
		return nil
	}
	f := Facts(c)
	f.DuplicateOverlapPercent, f.ConstructionApproved = s.dupFacts(c, activating)
	if ds := s.pack.CheckCamera(f); len(ds) > 0 {
		return &PolicyError{Decisions: ds}
	}
	return nil
}

// checkUpdatePolicy refuses a change to a camera by the pack, but only for what the change does:
// a camera stored under an older pack (or before a pack switch) may break rules of the pack now
// in force, and its owner must still be able to fix one field at a time. The rule:
//   - a change of status (activation) is checked whole: nothing goes into service, or back into
//     it, against the pack in force;
//   - otherwise a decision the old camera already had (same code, same field) is inherited, not
//     refused, as long as the change does not make it worse: the place category is left as it
//     was, and the retention is not shortened;
//   - any other decision is new with this change and refuses it.
func (s *Service) checkUpdatePolicy(old, c *Camera) error {
	if c.Status == StatusDecommissioned {
		return nil
	}
	f := Facts(c)
	f.DuplicateOverlapPercent, f.ConstructionApproved = s.dupFacts(c, c.Status == StatusActive && old.Status == StatusPlanned)
	ds := s.pack.CheckCamera(f)
	if len(ds) == 0 {
		return nil
	}
	if c.Status == old.Status {
		before := s.pack.CheckCamera(s.facts(old))
		ds = slices.DeleteFunc(ds, func(d policy.Decision) bool {
			inherited := slices.ContainsFunc(before, func(b policy.Decision) bool { return b.Code == d.Code && b.Field == d.Field })
			switch {
			case !inherited:
				return false
			case d.Field == policy.FieldPlaceCategory:
				return c.PlaceCategory == old.PlaceCategory
			case d.Field == policy.FieldRetentionDays:
				return c.RetentionDays >= old.RetentionDays
			}
			return false
		})
	}
	if len(ds) > 0 {
		return &PolicyError{Decisions: ds}
	}
	return nil
}

// CreateCamera registers a camera. A refusal by the policy is traced as denied.
func (s *Service) CreateCamera(ctx context.Context, scope Scope, in *CameraInput) (*Camera, error) {
	c, err := s.newCamera(ctx, scope, in)
	if err != nil {
		s.traceRefusal(ctx, trace.ActionCameraCreate, nil, err)
		return nil, err
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionCameraCreate, CameraIDs: []string{c.ID}, Outcome: trace.Allowed}); err != nil {
		return nil, err
	}
	if err := s.repo.CreateCameras(ctx, []*Camera{c}); err != nil {
		s.recordNotStored(ctx, trace.ActionCameraCreate, []string{c.ID}, err)
		return nil, err
	}
	s.indexCamera(c)
	s.storeFindings(ctx, c)
	s.accepted(ctx, nil, c)
	return c, nil
}

// errOtherOrganisation refuses a change aimed at another organisation's cameras.
var errOtherOrganisation = &InvalidError{Field: "organisation_id", Message: "you may only register cameras of your own organisation", OutOfScope: true}

// traceRefusal records a refusal by the policy or by the organisation wall; merely malformed
// input is not an access and is not traced.
func (s *Service) traceRefusal(ctx context.Context, action trace.Action, ids []string, err error) {
	var pe *PolicyError
	var inv *InvalidError
	if !errors.As(err, &pe) && !(errors.As(err, &inv) && inv.OutOfScope) {
		return
	}
	if terr := s.tracer.Record(ctx, trace.Record{Action: action, CameraIDs: ids, Outcome: trace.Denied, Reason: err.Error()}); terr != nil {
		s.log.Error("trace policy refusal", "action", action, "err", terr)
	}
}

// recordNotStored follows an allowed entry whose change the store then refused (a duplicate
// device id, say), so that the trail never claims a change that did not happen.
func (s *Service) recordNotStored(ctx context.Context, action trace.Action, ids []string, err error) {
	if terr := s.tracer.Record(ctx, trace.Record{Action: action, CameraIDs: ids, Outcome: trace.Denied, Reason: "not stored: " + err.Error()}); terr != nil {
		s.log.Error("trace store refusal", "action", action, "err", terr)
	}
}

// Camera returns one camera within the scope.
func (s *Service) Camera(ctx context.Context, scope Scope, id string) (*Camera, error) {
	if !ValidID(id) {
		return nil, invalid("id", "is not a valid id")
	}
	return s.repo.Camera(ctx, scope, id)
}

// Cameras lists cameras within the scope.
func (s *Service) Cameras(ctx context.Context, scope Scope, f CameraFilter) ([]*Camera, error) {
	return s.repo.Cameras(ctx, scope, f)
}

// CamerasUpdatedSince lists every camera changed at or after t, whatever its organisation: the
// change feed of the nodes that record them.
func (s *Service) CamerasUpdatedSince(ctx context.Context, t time.Time) ([]*Camera, error) {
	return s.repo.CamerasUpdatedSince(ctx, t)
}

// UpdateCamera applies a partial change. Moving a camera to another organisation is not a patch
// (ownership changes hands through an admin), and status only moves forward.
func (s *Service) UpdateCamera(ctx context.Context, scope Scope, id string, in *CameraInput) (*Camera, error) {
	old, err := s.Camera(ctx, scope, id)
	if err != nil {
		return nil, err
	}
	c := *old
	in.apply(&c)
	if c.OrganisationID != old.OrganisationID && !scope.All {
		err := &InvalidError{Field: "organisation_id", Message: "only an admin may move a camera to another organisation", OutOfScope: true}
		s.traceRefusal(ctx, trace.ActionCameraUpdate, []string{id}, err)
		return nil, err
	}
	if err := s.applyBasisInput(ctx, &c, in); err != nil {
		s.traceRefusal(ctx, trace.ActionCameraUpdate, []string{id}, err)
		return nil, err
	}
	if err := ValidateCamera(&c); err != nil {
		return nil, err
	}
	if err := s.checkDates(&c, in, old); err != nil {
		return nil, err
	}
	if err := ValidateStatusChange(old.Status, c.Status); err != nil {
		return nil, err
	}
	if c.OrganisationID != old.OrganisationID {
		if err := s.requireOrganisation(ctx, c.OrganisationID); err != nil {
			return nil, err
		}
	}
	action := trace.ActionCameraUpdate
	if c.Status == StatusDecommissioned && old.Status != StatusDecommissioned {
		action = trace.ActionCameraDecommission
	}
	if err := s.checkUpdatePolicy(old, &c); err != nil {
		s.traceRefusal(ctx, action, []string{id}, err)
		return nil, err
	}
	c.UpdatedAt = s.now().UTC()
	if err := s.tracer.Record(ctx, trace.Record{Action: action, CameraIDs: []string{id}, Outcome: trace.Allowed, Reason: changedFields(old, &c)}); err != nil {
		return nil, err
	}
	if err := s.repo.UpdateCamera(ctx, &c); err != nil {
		s.recordNotStored(ctx, action, []string{id}, err)
		return nil, err
	}
	s.indexCamera(&c)
	s.storeFindings(ctx, &c)
	s.accepted(ctx, old, &c)
	return &c, nil
}

// DecommissionCamera retires a camera. Its row, recordings and trail stay: the regulation's
// retention duty outlives the camera.
func (s *Service) DecommissionCamera(ctx context.Context, scope Scope, id string) (*Camera, error) {
	st := StatusDecommissioned
	return s.UpdateCamera(ctx, scope, id, &CameraInput{Status: &st})
}

// changedFields says, for the trail, what a change did: each field it touched with the value
// before and after. Stream sources are shown without their credentials; a change of the
// credentials alone is named, not shown.
func changedFields(a, b *Camera) string {
	var f []string
	add := func(name string, before, after any) {
		if before == after {
			return
		}
		f = append(f, fmt.Sprintf("%s %s → %s", name, traceValue(before), traceValue(after)))
	}
	add("name", a.Name, b.Name)
	add("organisation_id", a.OrganisationID, b.OrganisationID)
	add("investment", a.Investment, b.Investment)
	add("lat", a.Lat, b.Lat)
	add("lon", a.Lon, b.Lon)
	add("address", a.Address, b.Address)
	add("place_category", a.PlaceCategory, b.PlaceCategory)
	add("bearing", a.Bearing, b.Bearing)
	add("fov_angle", a.FOVAngle, b.FOVAngle)
	add("range_m", a.RangeM, b.RangeM)
	if a.SourceURL != b.SourceURL {
		if ra, rb := RedactURL(a.SourceURL), RedactURL(b.SourceURL); ra == rb {
			f = append(f, "source_url credentials changed")
		} else {
			add("source_url", ra, rb)
		}
	}
	add("networked", a.Networked, b.Networked)
	add("interface_reserved", a.InterfaceReserved, b.InterfaceReserved)
	add("sign_installed", a.SignInstalled, b.SignInstalled)
	add("sign_checked_at", a.SignCheckedAt.UTC(), b.SignCheckedAt.UTC())
	add("retention_days", a.RetentionDays, b.RetentionDays)
	add("maintenance_interval_days", a.MaintenanceIntervalDays, b.MaintenanceIntervalDays)
	add("last_maintenance_at", a.LastMaintenanceAt.UTC(), b.LastMaintenanceAt.UTC())
	add("status", a.Status, b.Status)
	add("legal_basis", basisText(a.Basis), basisText(b.Basis))
	add("gb_device_id", a.GBDeviceID, b.GBDeviceID)
	if len(f) == 0 {
		return "no change"
	}
	return "changed: " + strings.Join(f, "; ")
}

// traceValue writes a value of changedFields: strings quoted, so that an empty one and one
// with spaces read unambiguously; times as RFC 3339, the zero time as none.
func traceValue(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case time.Time:
		if v.IsZero() {
			return "none"
		}
		return v.Format(time.RFC3339)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func basisText(b LegalBasisRecord) string {
	if b.Status == "" {
		return ""
	}
	return b.Status + " " + b.ID + " (" + b.DocumentRef + ")"
}

// basisID is the basis the pack is to judge: a declined one counts as none.
func basisID(b LegalBasisRecord) string {
	if b.Status == BasisDeclined {
		return ""
	}
	return b.ID
}

// dateSkew is how far ahead of the server's clock a date may be, for a device or a browser
// whose clock runs a little fast.
const dateSkew = 5 * time.Minute

// checkDates refuses maintenance and sign-check dates that cannot be true: in the future, or,
// for a registered camera, before it was registered. Only the dates the input sets are judged,
// so that an unrelated change is not blocked by a date stored before this check existed. A new
// camera may carry dates from before its registration: it was often installed long before.
func (s *Service) checkDates(c *Camera, in *CameraInput, old *Camera) error {
	now := s.now()
	for _, d := range []struct {
		field string
		set   bool
		t     time.Time
	}{
		{"sign_checked_at", in.SignCheckedAt != nil, c.SignCheckedAt},
		{"last_maintenance_at", in.LastMaintenanceAt != nil, c.LastMaintenanceAt},
	} {
		switch {
		case !d.set || d.t.IsZero():
		case d.t.After(now.Add(dateSkew)):
			return invalid(d.field, "is in the future (%s; now %s)", d.t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		case old != nil && !old.CreatedAt.IsZero() && d.t.Before(old.CreatedAt):
			return invalid(d.field, "is before the camera was registered (%s)", old.CreatedAt.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// Near returns the cameras in scope within radiusM metres of a point, nearest first.
func (s *Service) Near(ctx context.Context, scope Scope, lat, lon, radiusM float64, limit int) ([]*Camera, []float64, error) {
	if err := ValidateLatLon(lat, lon); err != nil {
		return nil, nil, err
	}
	if !finite(radiusM) || radiusM <= 0 || radiusM > 100_000 {
		return nil, nil, invalid("radius_m", "must be in (0, 100000] metres")
	}
	hits, err := s.index.Near(lat, lon, radiusM, 0)
	if err != nil {
		return nil, nil, invalid("near", "%v", err)
	}
	return s.resolve(ctx, scope, hits, limit)
}

// InBox returns the cameras in scope inside a bounding box.
func (s *Service) InBox(ctx context.Context, scope Scope, minLat, minLon, maxLat, maxLon float64, limit int) ([]*Camera, error) {
	if err := ValidateLatLon(minLat, minLon); err != nil {
		return nil, err
	}
	if err := ValidateLatLon(maxLat, maxLon); err != nil {
		return nil, err
	}
	if minLat > maxLat {
		return nil, invalid("bbox", "south edge is north of the north edge")
	}
	ids, err := s.index.InBox(minLat, minLon, maxLat, maxLon, 0)
	if err != nil {
		return nil, invalid("bbox", "%v", err)
	}
	hits := make([]spatial.Hit, len(ids))
	for i, id := range ids {
		hits[i] = spatial.Hit{ID: id}
	}
	cams, _, err := s.resolve(ctx, scope, hits, limit)
	return cams, err
}

// resolve turns index hits into camera rows the scope may see, keeping the hits' order.
func (s *Service) resolve(ctx context.Context, scope Scope, hits []spatial.Hit, limit int) ([]*Camera, []float64, error) {
	if len(hits) == 0 {
		return nil, nil, nil
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	rows, err := s.repo.Cameras(ctx, scope, CameraFilter{IDs: ids})
	if err != nil {
		return nil, nil, err
	}
	byID := make(map[string]*Camera, len(rows))
	for _, c := range rows {
		byID[c.ID] = c
	}
	var cams []*Camera
	var dists []float64
	for _, h := range hits {
		if c, ok := byID[h.ID]; ok {
			cams = append(cams, c)
			dists = append(dists, h.DistanceM)
			if limit > 0 && len(cams) == limit {
				break
			}
		}
	}
	return cams, dists, nil
}

// facts are c's facts with its duplicate check, for the findings.
func (s *Service) facts(c *Camera) policy.CameraFacts {
	f := Facts(c)
	f.DuplicateOverlapPercent, f.ConstructionApproved = s.dupFacts(c, false)
	return f
}

// Facts converts a camera to what the policy pack judges.
func Facts(c *Camera) policy.CameraFacts {
	return policy.CameraFacts{
		PlaceCategory:           c.PlaceCategory,
		Investment:              c.Investment,
		Status:                  c.Status,
		Networked:               c.Networked,
		InterfaceReserved:       c.InterfaceReserved,
		SignInstalled:           c.SignInstalled,
		SignCheckedAt:           c.SignCheckedAt,
		RetentionDays:           c.RetentionDays,
		LegalBasisID:            basisID(c.Basis),
		LegalBasisApproved:      c.Basis.InForce(),
		LegalBasisPending:       c.Basis.Status == BasisPending,
		MaintenanceIntervalDays: c.MaintenanceIntervalDays,
		LastMaintenanceAt:       c.LastMaintenanceAt,
		CreatedAt:               c.CreatedAt,
	}
}

// Finding is one compliance finding about one camera.
type Finding struct {
	CameraID       string `json:"camera_id"`
	CameraName     string `json:"camera_name"`
	OrganisationID string `json:"organisation_id"`
	Code           string `json:"code"`
	Rule           string `json:"rule"`
	Message        string `json:"message"`
	PolicyVersion  string `json:"policy_version"`
}

// Compliance reports the policy findings for the cameras in scope, optionally narrowed to one
// organisation or one camera.
func (s *Service) Compliance(ctx context.Context, scope Scope, organisationID, cameraID string) ([]Finding, error) {
	var cams []*Camera
	if cameraID != "" {
		c, err := s.Camera(ctx, scope, cameraID)
		if err != nil {
			return nil, err
		}
		cams = []*Camera{c}
	} else {
		if organisationID != "" && !ValidID(organisationID) {
			return nil, invalid("organisation_id", "is not a valid id")
		}
		var err error
		if cams, err = s.repo.Cameras(ctx, scope, CameraFilter{OrganisationID: organisationID}); err != nil {
			return nil, err
		}
	}
	now := s.now()
	findings := []Finding{}
	for _, c := range cams {
		for _, f := range s.pack.Findings(s.facts(c), now) {
			findings = append(findings, Finding{
				CameraID: c.ID, CameraName: c.Name, OrganisationID: c.OrganisationID,
				Code: f.Code, Rule: f.Rule, Message: f.Message, PolicyVersion: f.PolicyVersion,
			})
		}
	}
	return findings, nil
}
