package gb28181

import (
	"context"
	"errors"
	"fmt"

	"civicam/internal/fault"
	"civicam/internal/registry"
	"civicam/internal/trace"
)

// filterOf is what a caller of scope sees: everything, or its organisation's devices and the
// pending ones, which it may adopt.
func filterOf(scope registry.Scope) DeviceFilter {
	return DeviceFilter{All: scope.All, OrganisationID: scope.OrganisationID}
}

// visible reports whether a caller of scope sees d.
func visible(scope registry.Scope, d *Device) bool {
	return scope.All || d.OrganisationID == "" || (scope.OrganisationID != "" && d.OrganisationID == scope.OrganisationID)
}

// Devices lists the devices a caller of scope sees, with their channels.
func (s *Server) Devices(ctx context.Context, scope registry.Scope) ([]*Device, error) {
	ds, err := s.repo.GBDevices(ctx, filterOf(scope))
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		d.Status, d.Auth = d.status(), d.auth()
	}
	return ds, nil
}

// Device returns one device the caller sees; another organisation's is not found.
func (s *Server) Device(ctx context.Context, scope registry.Scope, id string) (*Device, error) {
	if !ValidDeviceID(id) {
		return nil, fault.InvalidField("id", "must be 20 digits")
	}
	d, err := s.repo.GBDevice(ctx, id)
	if err != nil {
		return nil, err
	}
	if !visible(scope, d) {
		return nil, fault.ErrNotFound
	}
	d.Status, d.Auth = d.status(), d.auth()
	return d, nil
}

// RefreshCatalog asks a device for its catalog again; the answer arrives over SIP and is stored
// as it completes. A device that is not registered here is a conflict.
func (s *Server) RefreshCatalog(ctx context.Context, scope registry.Scope, id string) error {
	if _, err := s.Device(ctx, scope, id); err != nil {
		return err
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionGBCatalog, Reference: id, Outcome: trace.Allowed}); err != nil {
		return err
	}
	if err := s.query(ctx, id, "Catalog"); err != nil {
		if errors.Is(err, errNotRegistered) {
			return &fault.Error{Kind: fault.Conflict, Code: "not_registered", Message: "the device is not registered now", Err: err}
		}
		return &fault.Error{Kind: fault.Unavailable, Code: "device_unreachable", Message: "the device did not answer the catalog query", Err: err}
	}
	return nil
}

// AdoptInput is what an operator gives to adopt a device: the organisation, and optionally what
// the channels' cameras start with (each is completed afterwards as any camera).
type AdoptInput struct {
	OrganisationID string   `json:"organisation_id"`
	Investment     *string  `json:"investment"`
	PlaceCategory  *string  `json:"place_category"`
	Lat            *float64 `json:"lat"`
	Lon            *float64 `json:"lon"`
	Address        *string  `json:"address"`
}

// Adopt makes a pending device (or the new channels of an adopted one) belong to an organisation:
// each channel without a camera becomes a planned camera with its gb_device_id, through the
// registry, so the policy pack applies. Admins adopt into any organisation, operators into theirs.
func (s *Server) Adopt(ctx context.Context, scope registry.Scope, id string, in AdoptInput) (*Device, error) {
	if !registry.ValidID(in.OrganisationID) {
		return nil, fault.InvalidField("organisation_id", "is not a valid id")
	}
	if !scope.Allows(in.OrganisationID) {
		if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionGBAdopt, Reference: id, Outcome: trace.Denied,
			Reason: "adopt into another organisation " + in.OrganisationID}); err != nil {
			return nil, err
		}
		return nil, &fault.Error{Kind: fault.Forbidden, Code: "forbidden", Field: "organisation_id",
			Message: "you may only adopt devices into your own organisation", Traced: true}
	}
	d, err := s.Device(ctx, scope, id)
	if err != nil {
		return nil, err
	}
	if d.OrganisationID != "" && d.OrganisationID != in.OrganisationID {
		return nil, &fault.Error{Kind: fault.Conflict, Code: "adopted", Message: "the device belongs to another organisation"}
	}
	org, err := s.cameras.Organisation(ctx, in.OrganisationID)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, fault.InvalidField("organisation_id", "no such organisation")
	}
	if err != nil {
		return nil, err
	}
	self := false
	if len(d.Channels) == 0 && s.answersNoCatalog(d.ID) {
		// A device that answers no catalog query (a single camera, as srs-bench's is) is its
		// own channel, which is how such cameras are played.
		// It is stored, after the trace, with the camera it becomes.
		d.Channels, self = []Channel{{ID: d.ID, Name: d.Name, Status: "ON"}}, true
	}
	investment := registry.InvestmentPrivate
	if org.Kind == registry.KindDepartment {
		investment = registry.InvestmentGovernment
	}
	if in.Investment != nil {
		investment = *in.Investment
	}
	var ins []*registry.CameraInput
	var chans []string
	for _, ch := range d.Channels {
		if ch.CameraID != "" {
			continue
		}
		name := ch.Name
		if name == "" {
			name = ch.ID
		}
		lat, lon := ch.Lat, ch.Lon
		if in.Lat != nil && in.Lon != nil {
			lat, lon = *in.Lat, *in.Lon
		}
		address := ch.Address
		if in.Address != nil {
			address = *in.Address
		}
		src := "gb28181://" + d.ID + "/" + ch.ID
		networked := true
		ins = append(ins, &registry.CameraInput{Name: &name, OrganisationID: &in.OrganisationID, Investment: &investment,
			Lat: &lat, Lon: &lon, Address: &address, PlaceCategory: in.PlaceCategory, SourceURL: &src,
			Networked: &networked, GBDeviceID: &ch.ID})
		chans = append(chans, ch.ID)
	}
	if len(ins) == 0 && d.OrganisationID == in.OrganisationID {
		return d, nil // adopted already, with nothing new
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionGBAdopt, Reference: id, Outcome: trace.Allowed,
		Reason: fmt.Sprintf("into organisation %s (%s), %d new channels", org.ID, org.Name, len(ins))}); err != nil {
		return nil, err
	}
	if self {
		if err := s.repo.SaveGBChannels(ctx, d.ID, d.Channels, false); err != nil {
			return nil, err
		}
	}
	cams, err := s.cameras.CreateGBCameras(ctx, scope, ins)
	if err != nil {
		return nil, err
	}
	byChannel := make(map[string]string, len(cams))
	for i, c := range cams {
		byChannel[chans[i]] = c.ID
	}
	if err := s.repo.AdoptGBDevice(ctx, id, in.OrganisationID, byChannel); err != nil {
		return nil, err
	}
	return s.Device(ctx, scope, id)
}

// DeviceAuth is how one device is to authenticate: Auth is AuthGlobal, AuthPassword (with
// Password, its own) or AuthNone (no digest while a global password applies, for devices that
// cannot answer a challenge, as srs-bench's cannot).
type DeviceAuth struct {
	Auth     string `json:"auth"`
	Password string `json:"password,omitempty"`
}

// SetAuth sets how a device authenticates its REGISTERs. A device not yet known is entered
// pending and offline, so that one which cannot answer a digest can register for the first time
// at all. Only a caller who sees every device (an admin) may: it weakens or changes what keeps
// impostors out. Traced before it is stored; the password itself is not.
func (s *Server) SetAuth(ctx context.Context, scope registry.Scope, id string, in DeviceAuth) (*Device, error) {
	if !ValidDeviceID(id) {
		return nil, fault.InvalidField("id", "must be 20 digits")
	}
	switch in.Auth {
	case AuthGlobal, AuthNone:
		if in.Password != "" {
			return nil, fault.InvalidField("password", "is given only with auth password")
		}
	case AuthPassword:
		if in.Password == "" || len(in.Password) > 128 {
			return nil, fault.InvalidField("password", "must be 1 to 128 characters with auth password")
		}
	default:
		return nil, fault.InvalidField("auth", "must be global, password or none")
	}
	if !scope.All {
		if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionGBDeviceAuth, Reference: id, Outcome: trace.Denied,
			Reason: "set the authentication of a device without administering every device"}); err != nil {
			return nil, err
		}
		return nil, &fault.Error{Kind: fault.Forbidden, Code: "forbidden", Message: "only an administrator sets how a device authenticates", Traced: true}
	}
	d, err := s.repo.GBDevice(ctx, id)
	if errors.Is(err, fault.ErrNotFound) {
		d, err = &Device{ID: id}, nil
	}
	if err != nil {
		return nil, err
	}
	reason := "auth " + in.Auth
	if in.Auth == AuthNone && s.cfg.Password != "" {
		reason += ": registers without digest although a global password is set"
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionGBDeviceAuth, Reference: id, Outcome: trace.Allowed, Reason: reason}); err != nil {
		return nil, err
	}
	d.Password, d.NoDigest = in.Password, in.Auth == AuthNone
	if err := s.repo.SaveGBDevice(ctx, d); err != nil {
		return nil, err
	}
	return s.Device(ctx, scope, id)
}
