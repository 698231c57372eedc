package app

import (
	"context"
	"errors"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/recorder"
	"civicam/internal/registry"
	"civicam/internal/sharing"
)

// sharedWith answers the registry's duplicate check from the sharing grants and the pack's
// defaults: a camera is shared with an organisation when its operators may watch it live or
// play it back without an emergency.
type sharedWith struct{ shares *sharing.Service }

func (w sharedWith) SharedWith(ctx context.Context, cam *registry.Camera, orgID string, _ time.Time) (bool, error) {
	u := &auth.User{Role: auth.RoleOperator, OrganisationID: orgID}
	for _, use := range []access.Use{access.Live, access.Playback} {
		b, err := w.shares.Offered(ctx, u, cam, use)
		switch {
		case err == nil && !b.Emergency:
			return true, nil
		case err != nil && !errors.Is(err, access.ErrNoGrant):
			return false, err
		}
	}
	return false, nil
}

// offlineCameras answers the coverage report from the recorder: a camera it cannot reach, or
// cannot record, is offline; one it does not record at all (not an RTSP source) is not known to be.
type offlineCameras struct{ rec *recorder.Recorder }

func (o offlineCameras) Offline(id string) bool {
	st, ok := o.rec.Status(id)
	return ok && (st.State == recorder.StateOffline || st.State == recorder.StateError)
}
