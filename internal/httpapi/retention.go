package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/registry"
	"civicam/internal/retention"
	"civicam/internal/timespan"
)

// holdRoles may place and release legal holds: the platform team, the police, and the camera's
// own organisation (for its own cameras only).
var holdRoles = []auth.Role{auth.RoleAdmin, auth.RoleReviewer, auth.RoleOperator, auth.RoleOwner}

func (s *Server) retentionRoutes() []Route {
	return []Route{
		{"POST", "/api/v1/holds", holdRoles, s.createHold},
		{"GET", "/api/v1/holds", []auth.Role{auth.RoleAdmin, auth.RoleReviewer, auth.RoleAuditor, auth.RoleOperator, auth.RoleOwner}, s.listHolds},
		{"DELETE", "/api/v1/holds/{id}", holdRoles, s.releaseHold},
		{"GET", "/api/v1/storage", complianceRoles, s.storageReport},
		{"GET", "/api/v1/storage/summary", complianceRoles, s.storageSummary},
	}
}

type holdJSON struct {
	ID            string    `json:"id"`
	CameraIDs     []string  `json:"camera_ids"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	Reference     string    `json:"reference"`
	Reason        string    `json:"reason"`
	Class         string    `json:"class,omitempty"`
	KeptUntil     time.Time `json:"kept_until,omitzero"`
	Active        bool      `json:"active"`
	CreatedBy     string    `json:"created_by"`
	CreatedByName string    `json:"created_by_name"`
	CreatedAt     time.Time `json:"created_at"`
	ReleasedAt    time.Time `json:"released_at,omitzero"`
	ReleasedBy    string    `json:"released_by,omitempty"`
	ReleasedName  string    `json:"released_by_name,omitempty"`
	ReleaseReason string    `json:"release_reason,omitempty"`
}

func holdView(h *retention.Hold) holdJSON {
	return holdJSON{ID: h.ID, CameraIDs: append([]string{}, h.CameraIDs...), Start: h.Start.UTC(), End: h.End.UTC(), Reference: h.Reference, Reason: h.Reason,
		Class: h.Class, KeptUntil: h.KeptUntil, Active: h.Active(), CreatedBy: h.CreatedBy, CreatedByName: h.CreatedByName, CreatedAt: h.CreatedAt.UTC(),
		ReleasedAt: h.ReleasedAt, ReleasedBy: h.ReleasedBy, ReleasedName: h.ReleasedByName, ReleaseReason: h.ReleaseReason}
}

func (s *Server) createHold(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		CameraIDs []string  `json:"camera_ids"`
		Start     time.Time `json:"start"`
		End       time.Time `json:"end"`
		Reference string    `json:"reference"`
		Reason    string    `json:"reason"`
		Class     string    `json:"class"` // "" or "important"
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	h, err := s.holds.Place(r.Context(), auth.UserFrom(r.Context()), retention.HoldInput(in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, holdView(h))
	return nil
}

// listHolds lists the holds on the cameras in the caller's scope; ?active=true keeps the
// active ones, ?camera_id= one camera's.
func (s *Server) listHolds(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := retention.HoldFilter{CameraID: q.Get("camera_id")}
	switch q.Get("active") {
	case "", "false":
	case "true":
		f.ActiveOnly = true
	default:
		return badRequest("active", "must be true or false")
	}
	limit, keys, err := pageParams(q, holdsList, 2, defaultPageLimit, maxPageLimit)
	if err != nil {
		return err
	}
	f.Limit = limit
	if keys != nil {
		us, err := strconv.ParseInt(keys[0], 10, 64)
		if err != nil {
			return badRequest("cursor", "is not a cursor of this list")
		}
		f.After = &retention.HoldKey{CreatedAt: time.UnixMicro(us), ID: keys[1]}
	}
	hs, next, err := s.holds.Page(r.Context(), auth.UserFrom(r.Context()), f)
	if err != nil {
		return err
	}
	out := make([]holdJSON, 0, len(hs))
	for _, h := range hs {
		out = append(out, holdView(h))
	}
	body := map[string]any{"holds": out}
	if next != nil {
		body["next_cursor"] = encodeCursor(holdsList, strconv.FormatInt(next.CreatedAt.UnixMicro(), 10), next.ID)
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// releaseHold ends a hold, with the reason in the body ({"reason"}) or the query (?reason=).
func (s *Server) releaseHold(w http.ResponseWriter, r *http.Request) error {
	reason := r.URL.Query().Get("reason")
	if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
		var in struct {
			Reason string `json:"reason"`
		}
		if err := decodeJSON(w, r, &in); err != nil {
			return err
		}
		if in.Reason != "" {
			reason = in.Reason
		}
	}
	h, err := s.holds.Release(r.Context(), auth.UserFrom(r.Context()), r.PathValue("id"), reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, holdView(h))
	return nil
}

// maxGapsShown bounds the gaps listed per camera; the count and total cover all of them.
const maxGapsShown = 100

type storageCamera struct {
	retention.CameraStorage
	Gaps          []timespan.Range `json:"gaps"`
	GapsTruncated bool             `json:"gaps_truncated"`
}

// storageReport shows, per camera in the caller's scope, what is kept (bytes, oldest and newest
// recording, days kept, gaps) and how it records, and the forecast of every storage location.
// Operators and owners see the locations' totals but only their own cameras in them.
func (s *Server) storageReport(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	scope := access.ScopeOf(auth.UserFrom(ctx))
	limit, keys, err := pageParams(r.URL.Query(), storageList, 1, defaultPageLimit, maxPageLimit)
	if err != nil {
		return err
	}
	f := registry.CameraFilter{Limit: limit + 1}
	if keys != nil {
		f.After = keys[0]
	}
	cams, err := s.reg.Cameras(ctx, scope, f)
	if err != nil {
		return err
	}
	var next string
	if len(cams) > limit {
		cams = cams[:limit]
		next = encodeCursor(storageList, cams[len(cams)-1].ID)
	}
	p := s.storage
	st, err := p.Cameras(ctx, cams)
	if err != nil {
		return err
	}
	fs, err := p.Current(ctx)
	if err != nil {
		return err
	}
	mine := make(map[string]bool, len(cams))
	for _, c := range cams {
		mine[c.ID] = true
	}
	// Each location lists the loads of this page's cameras: the whole city's is what the page
	// was made to avoid; the totals are the location's.
	for i := range fs {
		var keep []retention.CameraLoad
		for _, c := range fs[i].Cameras {
			if mine[c.CameraID] {
				keep = append(keep, c)
			}
		}
		fs[i].Cameras = keep
	}
	outCams := make([]storageCamera, 0, len(st))
	for _, c := range st {
		sc := storageCamera{CameraStorage: c, Gaps: []timespan.Range{}}
		gaps := c.Gaps
		if len(gaps) > maxGapsShown {
			gaps, sc.GapsTruncated = gaps[len(gaps)-maxGapsShown:], true
		}
		for _, g := range gaps {
			sc.Gaps = append(sc.Gaps, timespan.Range{Start: g.Start.UTC(), End: g.End.UTC()})
		}
		outCams = append(outCams, sc)
	}
	if fs == nil {
		fs = []retention.Forecast{}
	}
	body := map[string]any{"locations": fs, "cameras": outCams}
	if b, ok := p.Bucket(); ok && scope.All {
		// The uploads to recordings.s3: what waits on local disk, and the bucket's last error.
		body["bucket"] = b
	}
	if next != "" {
		body["next_cursor"] = next
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// holdsList names the holds list's cursors.
const holdsList = "holds"

// storageList names the storage report's cursors.
const storageList = "storage"

// storageSummary is the forecast of every storage location, without the per-camera loads.
func (s *Server) storageSummary(w http.ResponseWriter, r *http.Request) error {
	fs, err := s.storage.Current(r.Context())
	if err != nil {
		return err
	}
	for i := range fs {
		fs[i].Cameras = []retention.CameraLoad{}
	}
	if fs == nil {
		fs = []retention.Forecast{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"locations": fs})
	return nil
}
