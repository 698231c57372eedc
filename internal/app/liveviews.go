package app

import (
	"context"
	"slices"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/live"
	"civicam/internal/sharing"
)

// liveViews lets the sharing service end the live views a revoked grant took away: the
// grantee's viewers whom the access rule, asked again as a running view's re-check asks it,
// now refuses.
type liveViews struct {
	live    *live.Service
	access  *access.Checker // set once the sharing service it consults is built
	cameras access.Cameras
	now     func() time.Time
}

var _ sharing.ViewEnder = (*liveViews)(nil)

// Refused implements sharing.ViewEnder.
func (v *liveViews) Refused(ctx context.Context, org string) []string {
	var ids []string
	for _, ss := range v.live.Sessions() {
		if ss.OrganisationID != org {
			continue
		}
		viewer := &auth.User{ID: ss.UserID, Username: ss.Username, Role: ss.Role, OrganisationID: ss.OrganisationID}
		if v.access.Recheck(ctx, v.cameras, viewer, ss.CameraID, v.now()) != nil {
			ids = append(ids, ss.ID)
		}
	}
	return ids
}

// EndViews implements sharing.ViewEnder.
func (v *liveViews) EndViews(ids []string, reason string) int {
	return v.live.Revoke(func(ss *live.Session) bool { return slices.Contains(ids, ss.ID) }, reason)
}
