package httpapi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/export"
	"civicam/internal/lostperson"
	"civicam/internal/playback"
	"civicam/internal/recorder"
	"civicam/internal/registry"
	"civicam/internal/segment"
	"civicam/internal/sharing"
	"civicam/internal/store"
	"civicam/internal/timespan"
	"civicam/internal/trace"
)

// Footage is what the playback and export routes need. With Recordings nil this process holds
// no recordings: every range is empty. With Key nil, exports are refused.
type Footage struct {
	Recordings *segment.Disk // DATA/recordings
	ExportDir  string        // DATA/exports
	Key        *trace.Key    // the platform key: the trail's, which signs export manifests
	// Grants shares other organisations' cameras (issue 7); nil means no sharing grants.
	Grants access.Grants
	// MaxRange bounds one playback or export; zero means 12 hours.
	MaxRange time.Duration
}

// footage is the assembled playback and export machinery.
type footage struct {
	access  *access.Checker
	builder *playback.Builder
	exports *export.Service
	signing bool
	index   playback.Index
}

// newFootage assembles the footage routes' parts from the server's dependencies. A reviewer's
// application is checked by the request service when it offers FootageAllowed; until then
// reviewers are refused.
func newFootage(d Deps) *footage {
	chk := &access.Checker{Grants: d.Footage.Grants}
	if d.Requests != nil {
		chk.Applications = d.Requests
	}
	f := &footage{access: chk, index: noRecordings{}}
	var files noFiles
	var pf playback.Files = files
	var ef export.Files = files
	if d.Footage.Recordings != nil && d.Store != nil {
		f.index, pf, ef = d.Store, d.Footage.Recordings, d.Footage.Recordings
	}
	f.builder = playback.New(playback.Config{MaxRange: d.Footage.MaxRange}, playback.Deps{Index: f.index, Files: pf})
	var signer export.Signer
	if d.Footage.Key != nil {
		signer = export.Signer{Signer: d.Footage.Key.Signer(), Verifier: d.Footage.Key.VerifierKey()}
		f.signing = true
	}
	f.exports = export.New(export.Config{Dir: d.Footage.ExportDir}, export.Deps{Files: ef, Key: signer})
	return f
}

// The request service answers for reviewers' applications.
var _ access.Applications = (*lostperson.Service)(nil)

type noRecordings struct{}

func (noRecordings) RecordingSegments(context.Context, string, time.Time, time.Time) ([]segment.Record, error) {
	return nil, nil
}

type noFiles struct{}

func (noFiles) Open(key string) (*os.File, error) {
	return nil, fmt.Errorf("no recordings on this server: %s", key)
}

var (
	// errFootageHidden answers a look at a camera outside the caller's reach as if the camera
	// did not exist. It is not errNotFound: the denial was already traced with its action.
	errFootageHidden = &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such object"}
	errNoFootage     = &apiError{Status: http.StatusNotFound, Code: "no_footage", Message: "nothing was recorded in this range"}
	errNoExportKey   = &apiError{Status: http.StatusServiceUnavailable, Code: "exports_unavailable", Message: "this server has no key to sign exports"}
)

func errFootageDenied(reason string) error {
	return &apiError{Status: http.StatusForbidden, Code: "forbidden", Message: reason}
}

// footageRoute are the roles the footage routes let through to the access check, which decides
// (and traces its refusals under the attempted action); applicants are refused by the table.
var footageRoute = staff

func (s *Server) playbackRoutes() []Route {
	return []Route{
		{"GET", "/api/v1/cameras/{id}/playback.mp4", footageRoute, s.playback},
		{"POST", "/api/v1/cameras/{id}/exports", footageRoute, s.createExport},
		{"GET", "/api/v1/exports/{id}", footageRoute, s.downloadExport},
	}
}

// footageRequest is one look at a camera's recordings, as asked.
type footageRequest struct {
	cam           *registry.Camera
	start, end    time.Time
	purpose       string
	applicationID string
	caseRef       string // the case a look is for; an emergency grant covers a look only under one
	basis         string // under what another organisation's camera is seen, for the trail
}

// ctx carries the case reference into the access check.
func (fr *footageRequest) ctx(ctx context.Context) context.Context {
	if fr.caseRef == "" {
		return ctx
	}
	return sharing.WithCaseRef(ctx, fr.caseRef)
}

// reference is what the trail entry names the look for: the application, else the case.
func (fr *footageRequest) reference() string {
	if fr.applicationID != "" {
		return fr.applicationID
	}
	return fr.caseRef
}

// traceReason adds the basis of the look to a trail entry's reason.
func (fr *footageRequest) traceReason(reason string) string {
	if fr.basis == "" {
		return reason
	}
	if reason == "" {
		return fr.basis
	}
	return reason + "; " + fr.basis
}

// lookup finds the camera named in the path (in the whole registry: the access check, not the
// registry's scope, decides who may see its video) and checks access, tracing a refusal under
// action. Another organisation's camera and one that does not exist both answer 404.
func (s *Server) lookupFootage(r *http.Request, action trace.Action, scope access.Use, fr *footageRequest) error {
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return errNotFound
	}
	cam, err := s.reg.Camera(r.Context(), registry.Scope{All: true}, id)
	if err != nil {
		return err
	}
	fr.cam = cam
	u := auth.UserFrom(r.Context())
	ctx := fr.ctx(r.Context())
	err = s.footage.access.Check(ctx, u, cam, scope, fr.start, fr.end, fr.applicationID)
	if err == nil {
		fr.basis = s.basisOf(ctx, u, cam, scope, fr.caseRef)
		return nil
	}
	reason := err.Error()
	if terr := s.tracer.Record(r.Context(), trace.Record{Action: action, CameraIDs: []string{cam.ID},
		From: fr.start, To: fr.end, Reference: fr.reference(), Purpose: fr.purpose, Outcome: trace.Denied, Reason: reason}); terr != nil {
		s.log.Error("trace footage denial", "camera", cam.ID, "err", terr)
	}
	var d *access.Denial
	switch {
	case errors.As(err, &d) && d.NotVisible:
		return errFootageHidden
	case errors.As(err, &d):
		return errFootageDenied(d.Reason)
	}
	return err
}

// basisOf says, for the trail, under what a user sees another organisation's camera: a grant
// (naming it), the policy pack's default sharing, or emergency use under a grant for a case.
// Nothing is said of one's own organisation's cameras.
func (s *Server) basisOf(ctx context.Context, u *auth.User, cam *registry.Camera, scope access.Use, caseRef string) string {
	if s.sharing == nil || u == nil || u.OrganisationID == "" || u.OrganisationID == cam.OrganisationID {
		return ""
	}
	b, err := s.sharing.Basis(ctx, u, cam, scope)
	switch {
	case err != nil:
		return ""
	case b.Emergency:
		return "EMERGENCY use under grant " + b.GrantID + " for case " + caseRef
	case b.Policy:
		return "shared by the policy pack's default for government cameras"
	}
	return "under grant " + b.GrantID
}

// parseFootageQuery reads start, end, purpose and application_id, all but the last required.
func parseFootageQuery(q url.Values, fr *footageRequest) error {
	var err error
	if fr.start, err = timeParam(q.Get("start"), "start"); err != nil {
		return err
	}
	if fr.end, err = timeParam(q.Get("end"), "end"); err != nil {
		return err
	}
	if fr.start.IsZero() {
		return badRequest("start", "required (RFC 3339)")
	}
	if fr.end.IsZero() {
		return badRequest("end", "required (RFC 3339)")
	}
	if !fr.end.After(fr.start) {
		return badRequest("end", "must be after start")
	}
	fr.purpose = strings.TrimSpace(q.Get("purpose"))
	fr.applicationID = q.Get("application_id")
	fr.caseRef = strings.TrimSpace(q.Get("case_ref"))
	return checkPurpose(fr)
}

func checkPurpose(fr *footageRequest) error {
	if fr.purpose == "" {
		return badRequest("purpose", "state the purpose of this look at the footage")
	}
	if len(fr.purpose) > 500 {
		return badRequest("purpose", "at most 500 bytes")
	}
	if len(fr.caseRef) > 200 {
		return badRequest("case_ref", "at most 200 bytes")
	}
	if fr.applicationID != "" && !registry.ValidID(fr.applicationID) {
		return badRequest("application_id", "not a valid id")
	}
	return nil
}

func (s *Server) planFootage(ctx context.Context, fr *footageRequest) (*playback.Plan, error) {
	p, err := s.footage.builder.Plan(ctx, fr.cam.ID, fr.start, fr.end)
	switch {
	case errors.Is(err, playback.ErrBadRange):
		return nil, badRequest("end", "%s", strings.TrimPrefix(err.Error(), playback.ErrBadRange.Error()+": "))
	case errors.Is(err, playback.ErrNoFootage):
		return nil, errNoFootage
	}
	return p, err
}

// playback streams one fragmented MP4 of the recorded time in [start, end): see package
// playback for how it is cut. The MP4 holds recorded time only; the response says what it left
// out and where each recorded stretch lies:
//
//	X-Civicam-Gaps:  unrecorded intervals of the requested range, "start/end" (RFC 3339), comma-separated
//	X-Civicam-Spans: recorded stretches, "offset_seconds=start/end", comma-separated
//	X-Civicam-Gap-Count, X-Civicam-Span-Count: how many there are (the lists stop at 100)
//
// The look is traced before any byte is sent; if the trail cannot be written the answer is 503
// with no video. Single byte ranges are served (206), so browsers can seek.
func (s *Server) playback(w http.ResponseWriter, r *http.Request) error {
	var fr footageRequest
	if err := parseFootageQuery(r.URL.Query(), &fr); err != nil {
		return err
	}
	if err := s.lookupFootage(r, trace.ActionPlayback, access.Playback, &fr); err != nil {
		return err
	}
	plan, err := s.planFootage(r.Context(), &fr)
	if err != nil {
		return err
	}
	defer plan.Close()
	off, n, status, err := byteRange(r.Header.Get("Range"), plan.Size)
	if err != nil {
		w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(plan.Size, 10))
		return err
	}
	if r.Method != http.MethodHead {
		reason := fmt.Sprintf("%s recorded in %d stretch(es), %d gap(s)", plan.Duration.Round(time.Millisecond), len(plan.Spans), len(plan.Gaps))
		if status == http.StatusPartialContent {
			reason += fmt.Sprintf("; bytes %d-%d of %d", off, off+n-1, plan.Size)
		}
		if err := s.tracer.Record(r.Context(), trace.Record{Action: trace.ActionPlayback, CameraIDs: []string{fr.cam.ID},
			From: fr.start, To: fr.end, Reference: fr.reference(), Purpose: fr.purpose, Outcome: trace.Allowed, Reason: fr.traceReason(reason)}); err != nil {
			return err
		}
	}
	h := w.Header()
	h.Set("Content-Type", "video/mp4")
	h.Set("Cache-Control", "no-store")
	h.Set("Accept-Ranges", "bytes")
	// A flapping camera can leave hundreds of gaps in a long range; headers stay bounded, and the
	// counts say when the lists were cut (the recordings API lists them all).
	h.Set("X-Civicam-Gaps", formatRanges(plan.Gaps[:min(len(plan.Gaps), maxListed)]))
	h.Set("X-Civicam-Gap-Count", strconv.Itoa(len(plan.Gaps)))
	h.Set("X-Civicam-Spans", formatSpans(plan.Spans[:min(len(plan.Spans), maxListed)]))
	h.Set("X-Civicam-Span-Count", strconv.Itoa(len(plan.Spans)))
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	if status == http.StatusPartialContent {
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, plan.Size))
	}
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return nil
	}
	// The right to look is checked again while the video streams, so a right that ends (a
	// sharing grant revoked, an account disabled elsewhere) stops the stream within a second.
	recheck := func() error {
		u, _, err := s.Authenticate(r)
		if err != nil {
			return &access.Denial{Reason: "the session ended: " + err.Error()}
		}
		return s.footage.access.Check(fr.ctx(r.Context()), u, fr.cam, access.Playback, fr.start, fr.end, fr.applicationID)
	}
	if err := streamRange(rawWriter(w), plan, off, n, recheck); err != nil {
		var d *access.Denial
		if errors.As(err, &d) {
			if terr := s.tracer.Record(r.Context(), trace.Record{Action: trace.ActionPlayback, CameraIDs: []string{fr.cam.ID},
				From: fr.start, To: fr.end, Reference: fr.applicationID, Purpose: fr.purpose, Outcome: trace.Denied,
				Reason: "access ended during playback: " + d.Reason}); terr != nil {
				s.log.Error("trace playback cut", "err", terr)
			}
		}
		// Headers are gone: all that is left is to cut the stream, which the client sees as a
		// short body against Content-Length.
		s.log.Warn("playback stream ended early", "camera", fr.cam.ID, "err", err)
	}
	return nil
}

// maxListed bounds the gaps and spans listed in response headers.
const maxListed = 100

// rawWriter unwraps the route wrapper's writer to the server's own, whose ReadFrom lets sample
// data go from file to socket with sendfile.
func rawWriter(w http.ResponseWriter) io.Writer {
	for {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return w
		}
		w = u.Unwrap()
	}
}

// byteRange reads a Range header for one range of a size-byte body: offset, length and the
// status to answer. Several ranges are answered with the whole body, as RFC 9110 allows.
func byteRange(h string, size int64) (off, n int64, status int, err error) {
	unsatisfiable := &apiError{Status: http.StatusRequestedRangeNotSatisfiable, Code: "range_not_satisfiable", Message: "the range lies outside the video"}
	spec, ok := strings.CutPrefix(h, "bytes=")
	if h == "" || !ok || strings.Contains(spec, ",") {
		return 0, size, http.StatusOK, nil
	}
	a, b, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return 0, 0, 0, unsatisfiable
	}
	switch {
	case a == "": // the last b bytes
		k, err := strconv.ParseInt(b, 10, 64)
		if err != nil || k <= 0 {
			return 0, 0, 0, unsatisfiable
		}
		k = min(k, size)
		return size - k, k, http.StatusPartialContent, nil
	default:
		first, err := strconv.ParseInt(a, 10, 64)
		if err != nil || first < 0 || first >= size {
			return 0, 0, 0, unsatisfiable
		}
		last := size - 1
		if b != "" {
			l, err := strconv.ParseInt(b, 10, 64)
			if err != nil || l < first {
				return 0, 0, 0, unsatisfiable
			}
			last = min(l, size-1)
		}
		return first, last - first + 1, http.StatusPartialContent, nil
	}
}

func formatRanges(rs []timespan.Range) string {
	parts := make([]string, len(rs))
	for i, g := range rs {
		parts[i] = g.Start.UTC().Format(time.RFC3339Nano) + "/" + g.End.UTC().Format(time.RFC3339Nano)
	}
	return strings.Join(parts, ", ")
}

func formatSpans(ss []playback.Span) string {
	parts := make([]string, len(ss))
	for i, sp := range ss {
		parts[i] = strconv.FormatFloat(sp.Offset.Seconds(), 'f', 3, 64) + "=" +
			sp.Start.UTC().Format(time.RFC3339Nano) + "/" + sp.End.UTC().Format(time.RFC3339Nano)
	}
	return strings.Join(parts, ", ")
}

// FootageCoverage is what was recorded of a camera in [start, end), for a user who may play it
// back: the recordings API's ranges and gaps, behind the footage access check (without tracing:
// it shows when, not what). The web UI draws its timeline from it.
func (s *Server) FootageCoverage(ctx context.Context, u *auth.User, cameraID string, start, end time.Time) (timespan.Coverage, error) {
	if !registry.ValidID(cameraID) {
		return timespan.Coverage{}, store.ErrNotFound
	}
	cam, err := s.reg.Camera(ctx, registry.Scope{All: true}, cameraID)
	if err != nil {
		return timespan.Coverage{}, err
	}
	if err := s.footage.access.Check(ctx, u, cam, access.Playback, start, end, ""); err != nil {
		return timespan.Coverage{}, err
	}
	return recorder.Coverage(ctx, s.db, s.recorder, cameraID, timespan.Range{Start: start, End: end})
}

// streamRange writes bytes [off, off+n) of the plan's MP4 through a large buffer: a part is a
// moof of a few hundred bytes and an mdat of tens of kilobytes, and sending each as its own
// syscall (or sendfile) costs more than copying them into megabyte writes. The first bytes are
// flushed at once, so the time to first byte is not the time to fill the buffer. Between
// chunks, at most once a second, recheck is asked whether the viewer may still look; its error
// ends the stream.
func streamRange(w io.Writer, plan *playback.Plan, off, n int64, recheck func() error) error {
	out := bufio.NewWriterSize(writerOnly{w}, 1<<20)
	const chunk = 1 << 20
	step := min(n, 64<<10)
	checked := time.Now()
	for n > 0 {
		if _, err := plan.WriteRange(out, off, step); err != nil {
			return err
		}
		if err := out.Flush(); err != nil {
			return err
		}
		off, n = off+step, n-step
		step = min(n, chunk)
		if n > 0 && recheck != nil && time.Since(checked) >= time.Second {
			if err := recheck(); err != nil {
				return err
			}
			checked = time.Now()
		}
	}
	return nil
}

// writerOnly hides a writer's ReadFrom, so that bufio reads file data into its own buffer.
type writerOnly struct{ io.Writer }
