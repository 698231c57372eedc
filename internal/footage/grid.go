package footage

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/photo"
	"civicam/internal/registry"
	"civicam/internal/trace"
)

// The live grid watches several cameras at once: one purpose is given for the grid session, and
// each tile is a live view of its own — decided, traced and re-checked by DecideLive and Watch as
// a single live view is — whose trail entries name the grid session (Request.Grid).
//
// A tile's snapshot is the frame the viewer sees, captured by the browser from its <video> and
// sent here: the server holds no decoder (video is remuxed, never decoded, and the server does
// not depend on ffmpeg), and the frame in the browser is the current one, where the newest
// keyframe the server holds may be a whole group of pictures old. The server checks that the
// caller holds the tile's live session and may take a copy of the camera's video (the export
// right: a still leaves the platform), keeps only the decoded pixels (package photo), traces the
// still with its SHA-256 before returning it, and keeps no copy: the trail says who took which
// picture of which camera when, under which purpose, and a picture shown later can be matched to
// its entry by its hash.

// GridID starts a live grid session: the id its tiles' trail entries name. It groups one
// viewer's tiles and grants nothing.
func GridID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ValidGridID reports whether s is a grid session id as GridID makes them.
func ValidGridID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// MaxSnapshotBytes bounds a snapshot as the browser sends it.
const MaxSnapshotBytes = 8 << 20

// Snapshot is a traced still of a live view.
type Snapshot struct {
	JPEG          []byte
	Width, Height int
	SHA256        string // hex, of JPEG: what the trail entry names
}

var errNoSnapshot = &fault.Error{Kind: fault.NotFound, Code: "not_found", Message: "no such live session", Traced: true}

// Snapshot takes the still jpeg of u's own live session id of camera cameraID: refused (and
// traced) unless the caller holds the session and may copy the camera's video now; the picture
// must be a JPEG. The still is traced, under the session's purpose, before it is returned.
func (s *Service) Snapshot(ctx context.Context, u *auth.User, cameraID, id string, jpeg []byte) (*Snapshot, error) {
	refuse := func(reason string, err error) error {
		rec := trace.Record{Action: trace.ActionSnapshot, Reference: id, From: s.d.Now(), Outcome: trace.Denied, Reason: reason}
		if registry.ValidID(cameraID) {
			rec.CameraIDs = []string{cameraID}
		}
		if terr := s.d.Tracer.Record(ctx, rec); terr != nil {
			s.d.Logger.Error("trace refused snapshot", "camera", cameraID, "err", terr)
		}
		return err
	}
	if len(id) > 64 {
		id = id[:64]
	}
	var held bool
	var purpose string
	if s.d.Live != nil && u != nil {
		if sess, ok := s.d.Live.Session(id); ok && sess.CameraID == cameraID && sess.UserID == u.ID {
			held, purpose = true, sess.Purpose
		}
	}
	if !held {
		return nil, refuse("snapshot of a live session the caller does not hold", errNoSnapshot)
	}
	cam, err := s.d.Cameras.Camera(ctx, registry.Scope{All: true}, cameraID)
	if err != nil {
		return nil, err
	}
	now := s.d.Now()
	if err := s.d.Access.Check(ctx, u, cam, access.Export, now, now, ""); err != nil {
		var d *access.Denial
		if !errors.As(err, &d) {
			return nil, err
		}
		return nil, refuse("a still is a copy, which needs the export right: "+d.Reason,
			&fault.Error{Kind: fault.Forbidden, Code: "forbidden", Message: "you may watch this camera but not copy its video: " + d.Reason, Traced: true})
	}
	p, err := photo.Sanitize(jpeg, MaxSnapshotBytes)
	if err == nil && p.ContentType != photo.JPEG {
		err = fmt.Errorf("%w: a snapshot is a JPEG", photo.ErrNotPhoto)
	}
	if err != nil {
		bad := &fault.Error{Kind: fault.Invalid, Code: "invalid", Field: "body", Message: err.Error(), Traced: true}
		if errors.Is(err, photo.ErrTooLarge) {
			bad.Kind, bad.Code = fault.TooLarge, "too_large"
		}
		return nil, refuse("malformed snapshot: "+err.Error(), bad)
	}
	sum := sha256.Sum256(p.Data)
	snap := &Snapshot{JPEG: p.Data, Width: p.Width, Height: p.Height, SHA256: hex.EncodeToString(sum[:])}
	if err := s.d.Tracer.Record(ctx, trace.Record{Action: trace.ActionSnapshot, CameraIDs: []string{cam.ID}, From: now,
		Reference: id, Purpose: purpose, Outcome: trace.Allowed,
		Reason: fmt.Sprintf("still of the live view: JPEG %d×%d, %d bytes, sha256 %s", p.Width, p.Height, len(p.Data), snap.SHA256)}); err != nil {
		return nil, err
	}
	return snap, nil
}
