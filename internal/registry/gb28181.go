package registry

import (
	"context"
	"fmt"
	"slices"

	"civicam/internal/policy"
	"civicam/internal/trace"
)

// CreateGBCameras registers the channels of an adopted GB/T 28181 device as planned cameras of
// one organisation, in one trail entry and one transaction. Such a camera may lack its place
// category until an operator completes it (with its field of view) by the same PATCH as any
// camera; activating it needs one, as every rule of the policy pack applies then as for any
// camera. Every other rule of the pack applies already here.
func (s *Service) CreateGBCameras(ctx context.Context, scope Scope, ins []*CameraInput) ([]*Camera, error) {
	cams := make([]*Camera, 0, len(ins))
	var ids []string
	for i, in := range ins {
		c := &Camera{Status: StatusPlanned, RetentionDays: s.pack.RetentionFloorDays()}
		if !scope.All {
			c.OrganisationID = scope.OrganisationID
		}
		in.apply(c)
		if !scope.Allows(c.OrganisationID) {
			s.traceRefusal(ctx, trace.ActionCameraCreate, nil, errOtherOrganisation)
			return nil, errOtherOrganisation
		}
		if c.Status != StatusPlanned {
			return nil, invalid("status", "an adopted channel's camera starts planned")
		}
		if err := validateCamera(c, true); err != nil {
			return nil, fmt.Errorf("channel %d (%s): %w", i+1, c.GBDeviceID, err)
		}
		if i == 0 || c.OrganisationID != cams[0].OrganisationID {
			if err := s.requireOrganisation(ctx, c.OrganisationID); err != nil {
				return nil, err
			}
		}
		ds := s.pack.CheckCamera(Facts(c))
		if c.PlaceCategory == "" {
			// Decided when the operator completes the camera; activation checks it again.
			ds = slices.DeleteFunc(ds, func(d policy.Decision) bool { return d.Code == policy.CodeUnknownPlaceCategory })
		}
		if len(ds) > 0 {
			err := &PolicyError{Decisions: ds}
			s.traceRefusal(ctx, trace.ActionCameraCreate, nil, err)
			return nil, err
		}
		now := s.now().UTC()
		c.ID, c.CreatedAt, c.UpdatedAt = NewID(), now, now
		cams = append(cams, c)
		ids = append(ids, c.ID)
	}
	if len(cams) == 0 {
		return nil, nil
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionCameraCreate, CameraIDs: ids, Outcome: trace.Allowed,
		Reason: fmt.Sprintf("%d GB/T 28181 channels adopted", len(cams))}); err != nil {
		return nil, err
	}
	if err := s.repo.CreateCameras(ctx, cams); err != nil {
		s.recordNotStored(ctx, trace.ActionCameraCreate, ids, err)
		return nil, err
	}
	for _, c := range cams {
		s.indexCamera(c)
	}
	s.storeFindings(ctx, cams...)
	return cams, nil
}
