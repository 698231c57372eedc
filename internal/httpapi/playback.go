package httpapi

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/footage"
	"civicam/internal/playback"
	"civicam/internal/timespan"
)

// footageRoute are the roles the footage routes let through to the access check, which decides
// (and traces its refusals under the attempted action); applicants are refused by the table.
var footageRoute = staff

func (s *Server) playbackRoutes() []Route {
	return []Route{
		{"GET", "/api/v1/cameras/{id}/playback.mp4", footageRoute, s.playback},
		{"POST", "/api/v1/cameras/{id}/exports", footageRoute, s.createExport},
		{"GET", "/api/v1/exports", footageRoute, s.listExports},
		{"GET", "/api/v1/exports/{id}", footageRoute, s.downloadExport},
		{"POST", "/api/v1/exports/verify", footageRoute, s.verifyExport},
		{"GET", "/api/v1/export-approvals", footageRoute, s.listExportApprovals},
		{"POST", "/api/v1/export-approvals/{id}/approve", footageRoute, s.approveExport},
	}
}

// parseFootageQuery reads start, end, purpose, application_id and case_ref.
func parseFootageQuery(r *http.Request) (footage.Request, error) {
	q := r.URL.Query()
	req := footage.Request{CameraID: r.PathValue("id"), Purpose: q.Get("purpose"),
		ApplicationID: q.Get("application_id"), CaseRef: q.Get("case_ref")}
	var err error
	if req.Start, err = timeParam(q.Get("start"), "start"); err != nil {
		return req, err
	}
	if req.End, err = timeParam(q.Get("end"), "end"); err != nil {
		return req, err
	}
	return req, nil
}

// playback streams one fragmented MP4 of the recorded time in [start, end): see package
// playback for how it is cut. The MP4 holds recorded time only; the response says what it left
// out and where each recorded stretch lies:
//
//	X-Civicam-Gaps:  unrecorded intervals of the requested range, "start/end" (RFC 3339), comma-separated
//	X-Civicam-Spans: recorded stretches, "offset_seconds=start/end", comma-separated
//	X-Civicam-Gap-Count, X-Civicam-Span-Count: how many there are (the lists stop at 100)
//	X-Civicam-Requested: the range asked for, "start/end"
//	X-Civicam-Served:    the range the MP4 holds, "start/end": from the last keyframe at or
//	                     before the requested start, so a little earlier than asked
//
// With viewing=ID (POST /api/v1/viewings) the range must lie inside that viewing, whose opening
// traced it: the request is kept with the viewing and needs no purpose of its own. Otherwise the
// look is traced before any byte is sent; if the trail cannot be written the answer is 503
// with no video. Single byte ranges are served (206), so browsers can seek.
func (s *Server) playback(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	req, err := parseFootageQuery(r)
	if err != nil {
		s.footage.Malformed(ctx, access.Playback, req, err)
		return err
	}
	var look *footage.Look
	if id := r.URL.Query().Get("viewing"); id != "" {
		// A seek inside a viewing: decided again, kept with the viewing, traced with its opening.
		look, err = s.footage.DecideInViewing(ctx, auth.UserFrom(ctx), id, req)
	} else {
		look, err = s.footage.Decide(ctx, auth.UserFrom(ctx), access.Playback, req)
	}
	if err != nil {
		return err
	}
	plan, err := s.footage.Plan(ctx, look)
	if err != nil {
		return err
	}
	defer plan.Close()
	off, n, status, err := byteRange(r.Header.Get("Range"), plan.Size)
	if err != nil {
		w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(plan.Size, 10))
		return err
	}
	if err := s.footage.Played(ctx, look, plan, off, n, status == http.StatusPartialContent, r.Method == http.MethodHead); err != nil {
		return err
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
	h.Set("X-Civicam-Requested", formatRanges([]timespan.Range{plan.Requested}))
	h.Set("X-Civicam-Served", formatRanges([]timespan.Range{plan.Covered}))
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
		u, _, err := s.authenticate(r)
		if err != nil {
			return &access.Denial{Reason: "the session ended: " + err.Error()}
		}
		return s.footage.Recheck(ctx, look, u)
	}
	// The server's write deadline bounds an ordinary answer; a stream moves it on as it flows, so
	// a long range is served however long it takes a reader that keeps reading.
	rc := http.NewResponseController(w)
	extend := func() { rc.SetWriteDeadline(time.Now().Add(streamStall)) }
	extend()
	if err := streamRange(rawWriter(w), plan, off, n, recheck, extend); err != nil {
		var d *access.Denial
		if errors.As(err, &d) {
			s.footage.CutShort(ctx, look, d)
		}
		// Headers are gone: all that is left is to cut the stream, which the client sees as a
		// short body against Content-Length.
		s.log.Warn("playback stream ended early", "camera", look.Camera.ID, "err", err)
	}
	return nil
}

// streamStall is how long a stream may wait on a reader that does not read before it is cut.
const streamStall = time.Minute

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

// streamRange writes bytes [off, off+n) of the plan's MP4 through a large buffer: a part is a
// moof of a few hundred bytes and an mdat of tens of kilobytes, and sending each as its own
// syscall (or sendfile) costs more than copying them into megabyte writes. The first bytes are
// flushed at once, so the time to first byte is not the time to fill the buffer. Between
// chunks, at most once a second, recheck is asked whether the viewer may still look; its error
// ends the stream. progress is called after each chunk written.
func streamRange(w io.Writer, plan *playback.Plan, off, n int64, recheck func() error, progress func()) error {
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
		if progress != nil {
			progress()
		}
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
