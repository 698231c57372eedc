package registry

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/trace"
)

// Sign is a camera's reminder-sign record (REG-7): whether a sign is installed, when and by
// whom it was last checked, and the photo taken then (its metadata; the bytes are served
// separately, each look traced).
type Sign struct {
	CameraID  string    `json:"camera_id"`
	Installed bool      `json:"installed"`
	CheckedAt time.Time `json:"checked_at,omitzero"`
	CheckedBy string    `json:"checked_by,omitempty"` // a user id
	Photo     *Photo    `json:"photo,omitempty"`
	// CheckDueAt is when the next check falls due under the pack; zero when none is owed.
	CheckDueAt time.Time `json:"check_due_at,omitzero"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
}

// SignInput is a change to a sign record; nil fields are left as they are. A photo, when
// given, is a check of an installed sign: CheckedAt defaults to now, Installed to true, and
// CheckedBy is the caller.
type SignInput struct {
	Installed *bool      `json:"installed"`
	CheckedAt *time.Time `json:"checked_at"`
	Photo     []byte     `json:"-"`
}

// SignRepo keeps sign records and their photos; *store.DB implements it.
type SignRepo interface {
	// Sign is the camera's record with its photo's metadata (not its bytes); fault.ErrNotFound
	// when the camera has none yet.
	Sign(ctx context.Context, cameraID string) (*Sign, error)
	// PutSign writes the record and, when photo is not nil, the photo, and sets the camera's
	// sign_installed, sign_checked_at and updated_at from c, in one transaction.
	PutSign(ctx context.Context, c *Camera, s *Sign, photo *Photo) error
	// SignPhoto is a photo with its bytes; fault.ErrNotFound when there is none by that hash.
	SignPhoto(ctx context.Context, sha256 string) (*Photo, error)
}

// Sign returns the sign record of a camera the scope sees. A camera without a record yet has
// one made from its sign fields.
func (s *Service) Sign(ctx context.Context, scope Scope, cameraID string) (*Sign, error) {
	c, err := s.Camera(ctx, scope, cameraID)
	if err != nil {
		return nil, err
	}
	return s.signOf(ctx, c)
}

func (s *Service) signOf(ctx context.Context, c *Camera) (*Sign, error) {
	sg, err := s.repo.Sign(ctx, c.ID)
	switch {
	case errors.Is(err, fault.ErrNotFound):
		sg = &Sign{CameraID: c.ID}
	case err != nil:
		return nil, err
	}
	// The camera's fields are what the pack judges; they win over an older record's.
	sg.Installed, sg.CheckedAt = c.SignInstalled, c.SignCheckedAt
	if due, owes := s.pack.SignCheckDue(Facts(c)); owes {
		sg.CheckDueAt = due
	}
	return sg, nil
}

// UpdateSign changes a camera's sign record: installed or not, a check with its date, a photo
// (sniffed, re-encoded without metadata, size-limited). Dates in the future or before the
// camera's registration are refused. The change is traced before it is written.
func (s *Service) UpdateSign(ctx context.Context, scope Scope, u *auth.User, cameraID string, in *SignInput) (*Sign, error) {
	old, err := s.Camera(ctx, scope, cameraID)
	if err != nil {
		return nil, err
	}
	if old.Status == StatusDecommissioned {
		return nil, &fault.Error{Kind: fault.Conflict, Code: "decommissioned", Message: "the camera is decommissioned"}
	}
	prev, err := s.signOf(ctx, old)
	if err != nil {
		return nil, err
	}
	var photo *Photo
	if in.Photo != nil {
		if photo, err = SanitizePhoto(in.Photo); err != nil {
			return nil, err
		}
	}
	c, sg := *old, *prev
	now := s.now().UTC()
	switch {
	case in.Installed != nil:
		c.SignInstalled = *in.Installed
	case photo != nil:
		c.SignInstalled = true // a photo of the sign shows it is there
	}
	checked := in.CheckedAt
	if checked == nil && photo != nil {
		checked = &now
	}
	if checked != nil {
		c.SignCheckedAt = checked.UTC()
		sg.CheckedBy = u.ID
	}
	if photo != nil {
		sg.Photo = &Photo{Type: photo.Type, SHA256: photo.SHA256, Size: photo.Size}
	}
	if err := s.checkDates(&c, &CameraInput{SignCheckedAt: checked}, old); err != nil {
		return nil, err
	}
	if !c.SignInstalled && (checked != nil || photo != nil) {
		return nil, invalid("installed", "a check or photo needs a sign installed")
	}
	c.UpdatedAt, sg.UpdatedAt = now, now
	sg.Installed, sg.CheckedAt = c.SignInstalled, c.SignCheckedAt
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionSignUpdate, CameraIDs: []string{c.ID}, Outcome: trace.Allowed, Reason: signChanged(prev, &sg)}); err != nil {
		return nil, err
	}
	if err := s.repo.PutSign(ctx, &c, &sg, photo); err != nil {
		s.recordNotStored(ctx, trace.ActionSignUpdate, []string{c.ID}, err)
		return nil, err
	}
	s.storeFindings(ctx, &c)
	return s.signOf(ctx, &c)
}

// signChanged says, for the trail, what a sign change did.
func signChanged(a, b *Sign) string {
	var f []string
	if a.Installed != b.Installed {
		f = append(f, fmt.Sprintf("installed %t → %t", a.Installed, b.Installed))
	}
	if !a.CheckedAt.Equal(b.CheckedAt) {
		f = append(f, fmt.Sprintf("checked_at %s → %s by %s", traceValue(a.CheckedAt.UTC()), traceValue(b.CheckedAt.UTC()), strconv.Quote(b.CheckedBy)))
	}
	pa, pb := "", ""
	if a.Photo != nil {
		pa = a.Photo.SHA256
	}
	if b.Photo != nil {
		pb = b.Photo.SHA256
	}
	if pa != pb {
		f = append(f, "photo "+traceValue(pa)+" → "+traceValue(pb))
	}
	if len(f) == 0 {
		return "sign: no change"
	}
	return "sign changed: " + strings.Join(f, "; ")
}

// SignPhoto returns the photo of a camera's sign to a caller who may see the camera's record;
// the look is traced before the bytes are returned.
func (s *Service) SignPhoto(ctx context.Context, scope Scope, cameraID string) (*Photo, error) {
	c, err := s.Camera(ctx, scope, cameraID)
	if err != nil {
		return nil, err
	}
	sg, err := s.repo.Sign(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	if sg.Photo == nil {
		return nil, fmt.Errorf("sign photo of camera %s: %w", c.ID, fault.ErrNotFound)
	}
	p, err := s.repo.SignPhoto(ctx, sg.Photo.SHA256)
	if err != nil {
		return nil, err
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionSignPhotoRead, CameraIDs: []string{c.ID}, Outcome: trace.Allowed, Reason: "sign photo " + p.SHA256}); err != nil {
		return nil, err
	}
	return p, nil
}
