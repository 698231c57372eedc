// Package footage is the one workflow for looking at a camera's video, whichever face asks and
// however the video is seen — played back, exported or watched live (REG-5): validate the
// request, decide with the access check whether this user may see this camera for this time,
// trace the refusal or the look before any video leaves, plan the recorded range, and re-check
// the right while the video flows. The API, the web UI and the live view all come here, so the
// rule and its trace are written once.
package footage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/export"
	"civicam/internal/fault"
	"civicam/internal/playback"
	"civicam/internal/policy"
	"civicam/internal/recorder"
	"civicam/internal/registry"
	"civicam/internal/segment"
	"civicam/internal/sharing"
	"civicam/internal/timespan"
	"civicam/internal/trace"
)

// Cameras finds a camera in the registry; *registry.Service implements it.
type Cameras interface {
	Camera(ctx context.Context, scope registry.Scope, id string) (*registry.Camera, error)
}

// Sharing says under what another organisation's camera is seen; *sharing.Service implements
// it. A nil Sharing means no camera is seen across organisations but by a grant the access check
// knows of, and the trail then names no basis.
type Sharing interface {
	Basis(ctx context.Context, u *auth.User, cam *registry.Camera, scope access.Use) (sharing.Basis, error)
}

// Index is the recordings index; *store.DB implements it.
type Index interface {
	playback.Index
	RecordingRanges(ctx context.Context, cameraID string, start, end time.Time) (timespan.Coverage, error)
}

// Recorder reports the segment a camera is being recorded into; *recorder.Recorder implements
// it. Nil when this process records nothing.
type Recorder = recorder.StatusReader

// Trail finds entries just written; *trace.Log implements it.
type Trail interface {
	Query(ctx context.Context, f trace.Filter) ([]trace.Entry, *int64, error)
	// Receipt proves an entry (an export carries its own entry's receipt).
	Receipt(ctx context.Context, seq int64) (trace.Receipt, error)
}

// Files opens recorded segments by key; *segment.Disk implements it.
type Files interface {
	Open(key string) (segment.Reader, error)
}

// Config tunes the service.
type Config struct {
	// MaxRange bounds one playback or export; zero means 12 hours.
	MaxRange time.Duration
	// ExportDir is where exports are written (DATA/exports).
	ExportDir string
}

// Deps are what the service works with. With Files nil this process holds no recordings: every
// range is empty. With Key nil, exports are refused.
type Deps struct {
	Access   *access.Checker
	Cameras  Cameras
	Sharing  Sharing
	Index    Index
	Files    Files
	Key      *trace.Key // the platform key: the trail's, which signs export manifests
	Recorder Recorder
	Live     Live
	Tracer   trace.Tracer
	Trail    Trail
	Logger   *slog.Logger
	Now      func() time.Time
	// Options are the pack's optional rules in force (all off when nil).
	Options func() policy.Options
	// Approvals keeps the exports the two-person rule holds back; Users finds their requesters.
	Approvals Approvals
	Users     Users
	// Viewings keeps the viewings of review by time; nil refuses to open any.
	Viewings Viewings
}

// Service decides, traces and serves looks at footage.
type Service struct {
	d       Deps
	ranges  Index // what the index says was recorded; the segments' files may be elsewhere
	builder *playback.Builder
	exports *export.Service
	signing bool
	// exportDir also holds uploads being checked; verifying bounds how many are at once.
	exportDir string
	verifying chan struct{}
}

// New assembles the service: the playback planner over the index and the files, and the export
// writer signing with the platform key.
func New(cfg Config, d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Access == nil {
		d.Access = &access.Checker{}
	}
	s := &Service{d: d, ranges: d.Index, exportDir: cfg.ExportDir, verifying: make(chan struct{}, maxVerifyAtOnce)}
	if d.Index == nil {
		s.ranges = noRecordings{}
	}
	var index Index = noRecordings{}
	var files interface {
		playback.Files
		export.Files
	} = noFiles{}
	if d.Files != nil && d.Index != nil {
		index, files = d.Index, d.Files
	}
	s.builder = playback.New(playback.Config{MaxRange: cfg.MaxRange}, playback.Deps{Index: index, Files: files})
	var signer export.Signer
	if d.Key != nil {
		signer = export.Signer{Signer: d.Key.Signer(), Verifier: d.Key.VerifierKey()}
		s.signing = true
	}
	var receipts export.Receipts
	if d.Trail != nil {
		receipts = d.Trail
	}
	s.exports = export.New(export.Config{Dir: cfg.ExportDir}, export.Deps{Files: files, Key: signer, Receipts: receipts})
	return s
}

// noRecordings is the index of a process that holds no recordings.
type noRecordings struct{}

func (noRecordings) RecordingSegments(context.Context, string, time.Time, time.Time) ([]segment.Record, error) {
	return nil, nil
}

func (noRecordings) RecordingRanges(_ context.Context, _ string, start, end time.Time) (timespan.Coverage, error) {
	return timespan.Coverage{Gaps: []timespan.Range{{Start: start, End: end}}}, nil
}

type noFiles struct{}

func (noFiles) Open(key string) (segment.Reader, error) {
	return nil, fmt.Errorf("no recordings on this server: %s", key)
}

// The failures the faces answer.
var (
	// ErrHidden answers a look at a camera outside the user's reach as if the camera did not
	// exist; the refusal is already traced under the look's action.
	ErrHidden = &fault.Error{Kind: fault.NotFound, Code: "not_found", Message: "no such object", Traced: true}
	// ErrNoFootage is a range in which nothing was recorded.
	ErrNoFootage = &fault.Error{Kind: fault.NotFound, Code: "no_footage", Message: "nothing was recorded in this range", Traced: true}
	// ErrNoExportKey refuses exports on a server without the key that signs them.
	ErrNoExportKey = &fault.Error{Kind: fault.Unavailable, Code: "exports_unavailable", Message: "this server has no key to sign exports"}
)

func denied(reason string) error {
	return &fault.Error{Kind: fault.Forbidden, Code: "forbidden", Message: reason, Traced: true}
}

// Request is one look at a camera's recordings, as asked.
type Request struct {
	CameraID      string
	Start, End    time.Time // for live view, the moment of the request
	Purpose       string
	ApplicationID string // the lost-person application a reviewer looks under
	CaseRef       string // the case a look is for; an emergency grant covers a look only under one
	// Grid is the live grid session a live view is a tile of (GridID): its tiles' trail
	// entries name it, each a look of its own under the one purpose given for the grid.
	Grid string
	// Recipient is where an export's copy goes; the pack's export_recipients option requires it.
	Recipient *export.Recipient
}

// Look is a look the access check let through.
type Look struct {
	Request
	Camera *registry.Camera
	use    access.Use
	basis  string // under what another organisation's camera is seen, for the trail
	// viewing is the viewing the look is a seek of, whose opening traced it ("" for a look of its own).
	viewing string
}

// ctx carries the case reference into the access check.
func (l *Look) ctx(ctx context.Context) context.Context {
	if l.CaseRef == "" {
		return ctx
	}
	return sharing.WithCaseRef(ctx, l.CaseRef)
}

// reference is what the trail entry names the look for: the application, else the case.
func (l *Look) reference() string {
	if l.ApplicationID != "" {
		return l.ApplicationID
	}
	return l.CaseRef
}

// traceReason adds the basis of the look, and the live grid it is a tile of, to a trail
// entry's reason.
func (l *Look) traceReason(reason string) string {
	return l.inGrid(joinReason(reason, l.basis))
}

// deniedReason is a refusal's reason in the trail, naming the live grid of a tile when the grid
// given is one (it is validated only after the access check).
func (l *Look) deniedReason(err error) string {
	if !ValidGridID(l.Grid) {
		return err.Error()
	}
	return l.inGrid(err.Error())
}

// inGrid adds the live grid session the look is a tile of to a trail entry's reason.
func (l *Look) inGrid(reason string) string {
	if l.Grid == "" {
		return reason
	}
	return joinReason(reason, "tile of live grid "+l.Grid)
}

func joinReason(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// actions are the trail's names of the uses.
var actions = map[access.Use]trace.Action{
	access.Playback: trace.ActionPlayback, access.Export: trace.ActionExport, access.Live: trace.ActionLiveView,
}

// checkRequest validates what the user states of a look.
func checkRequest(use access.Use, r *Request) error {
	r.Purpose, r.CaseRef = strings.TrimSpace(r.Purpose), strings.TrimSpace(r.CaseRef)
	if use != access.Live {
		switch {
		case r.Start.IsZero():
			return fault.InvalidField("start", "required (RFC 3339)")
		case r.End.IsZero():
			return fault.InvalidField("end", "required (RFC 3339)")
		case !r.End.After(r.Start):
			return fault.InvalidField("end", "must be after start")
		}
	}
	switch {
	case r.Purpose == "":
		return fault.InvalidField("purpose", "state the purpose of this look at the footage")
	case len(r.Purpose) > 500:
		return fault.InvalidField("purpose", "at most 500 bytes")
	case len(r.CaseRef) > 200:
		return fault.InvalidField("case_ref", "at most 200 bytes")
	case r.ApplicationID != "" && !registry.ValidID(r.ApplicationID):
		return fault.InvalidField("application_id", "not a valid id")
	case r.Grid != "" && (use != access.Live || !ValidGridID(r.Grid)):
		return fault.InvalidField("grid", "a live grid session is 32 lowercase hexadecimal digits, and only for live view")
	case use == access.Export && r.CaseRef == "":
		return fault.InvalidField("case_ref", "give the case (or application) this export is for")
	}
	return nil
}

// Decide checks a look at a camera's footage: the request is valid, the camera exists (in the
// whole registry: the access check, not the registry's scope, decides who may see its video),
// and u may see it for the use over the range. A refusal is traced under the use's action; a
// camera of another organisation and one that does not exist both are ErrHidden. Live view is
// checked before its purpose, playback and export after, as they always were.
func (s *Service) Decide(ctx context.Context, u *auth.User, use access.Use, req Request) (*Look, error) {
	req.Purpose, req.CaseRef = strings.TrimSpace(req.Purpose), strings.TrimSpace(req.CaseRef)
	if use != access.Live {
		if err := checkRequest(use, &req); err != nil {
			s.Malformed(ctx, use, req, err)
			return nil, err
		}
	}
	if !registry.ValidID(req.CameraID) {
		return nil, fmt.Errorf("camera %q: %w", req.CameraID, fault.ErrNotFound)
	}
	cam, err := s.d.Cameras.Camera(ctx, registry.Scope{All: true}, req.CameraID)
	if err != nil {
		return nil, err
	}
	l := &Look{Request: req, Camera: cam, use: use}
	lctx := l.ctx(ctx)
	err = s.d.Access.Check(lctx, u, cam, use, req.Start, req.End, req.ApplicationID)
	if err != nil {
		if terr := s.d.Tracer.Record(ctx, trace.Record{Action: actions[use], CameraIDs: []string{cam.ID},
			From: req.Start, To: req.End, Reference: l.reference(), Purpose: req.Purpose,
			Outcome: trace.Denied, Reason: l.deniedReason(err)}); terr != nil {
			s.d.Logger.Error("trace footage denial", "camera", cam.ID, "err", terr)
		}
		var d *access.Denial
		switch {
		case errors.As(err, &d) && d.NotVisible:
			return nil, ErrHidden
		case errors.As(err, &d):
			return nil, denied(d.Reason)
		}
		return nil, err
	}
	l.basis = s.basisOf(lctx, u, cam, use, req.CaseRef)
	if use == access.Live {
		if err := checkRequest(use, &l.Request); err != nil {
			s.Malformed(ctx, use, l.Request, err)
			return nil, err
		}
	}
	return l, nil
}

// Malformed traces a look refused because the request was malformed — here, or in a face that
// could not read it: a probe of the footage routes leaves a trace like any other refusal. The
// refusal is the answer, so a trail failure is only logged.
func (s *Service) Malformed(ctx context.Context, use access.Use, req Request, err error) {
	var cams []string
	if registry.ValidID(req.CameraID) {
		cams = []string{req.CameraID}
	}
	from, to := req.Start, req.End
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		from, to = time.Time{}, time.Time{} // the range is what was wrong; the reason says so
	}
	if terr := s.d.Tracer.Record(ctx, trace.Record{Action: actions[use], CameraIDs: cams, From: from, To: to,
		Purpose: req.Purpose, Outcome: trace.Denied, Reason: "malformed request: " + err.Error()}); terr != nil {
		s.d.Logger.Error("trace malformed footage request", "err", terr)
	}
}

// basisOf says, for the trail, under what a user sees another organisation's camera: a grant
// (naming it), the policy pack's default sharing, or emergency use under a grant for a case.
// Nothing is said of one's own organisation's cameras.
func (s *Service) basisOf(ctx context.Context, u *auth.User, cam *registry.Camera, use access.Use, caseRef string) string {
	if s.d.Sharing == nil || u == nil || u.OrganisationID == "" || u.OrganisationID == cam.OrganisationID {
		return ""
	}
	b, err := s.d.Sharing.Basis(ctx, u, cam, use)
	switch {
	case err != nil && u.Role == auth.RoleReviewer && cam.Investment != registry.InvestmentGovernment:
		// The access check let it through with no grant: the owner approved a footage request.
		return "under a footage request approved by the camera's owner"
	case err != nil:
		return ""
	case b.Emergency:
		return "EMERGENCY use under grant " + b.GrantID + " for case " + caseRef
	case b.Policy:
		return "shared by the policy pack's default for government cameras"
	}
	return "under grant " + b.GrantID
}

// Recheck asks again, while video flows, whether the viewer (as the login is now) may still
// see the look's footage; a *access.Denial ends the stream.
func (s *Service) Recheck(ctx context.Context, l *Look, u *auth.User) error {
	return s.d.Access.Check(l.ctx(ctx), u, l.Camera, l.use, l.Start, l.End, l.ApplicationID)
}

// MayStillWatch is a live view's periodic re-check: the same rule, with the viewer and the
// camera as they are now.
func (s *Service) MayStillWatch(ctx context.Context, u *auth.User, cameraID string) error {
	return s.d.Access.Recheck(ctx, s.d.Cameras, u, cameraID, s.d.Now())
}

// SharedCamera is another organisation's camera that is shared with the user's organisation
// (by a grant or the pack's default) for some use now; otherwise it is not found, as any
// camera outside the user's reach.
func (s *Service) SharedCamera(ctx context.Context, u *auth.User, id string) (*registry.Camera, error) {
	notFound := fmt.Errorf("camera %s: %w", id, fault.ErrNotFound)
	if u == nil || !u.Role.OrgScoped() {
		return nil, notFound
	}
	c, err := s.d.Cameras.Camera(ctx, registry.Scope{All: true}, id)
	if err != nil {
		return nil, err
	}
	now := s.d.Now()
	for _, use := range []access.Use{access.Live, access.Playback, access.Export} {
		if s.d.Access.Check(ctx, u, c, use, now, now, "") == nil {
			return c, nil
		}
	}
	return nil, notFound
}
