package httpapi

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"civicam/internal/auth"
	"civicam/internal/lostperson"
)

var (
	applicants         = []auth.Role{auth.RoleApplicant}
	reviewers          = []auth.Role{auth.RoleReviewer}
	applicantsOrPolice = []auth.Role{auth.RoleApplicant, auth.RoleReviewer}
	// cameraOwners decide footage requests for their organisation's cameras.
	cameraOwners = []auth.Role{auth.RoleOperator, auth.RoleOwner}
)

// applicationRoutes are the lost-person application routes (REG-6); none without the service.
func (s *Server) applicationRoutes() []Route {
	if s.Requests == nil {
		return nil
	}
	return []Route{
		{"GET", "/api/v1/portal", nil, s.portal},
		{"GET", "/api/v1/procedures", nil, s.procedures},
		{"POST", "/api/v1/procedures", admins, s.publishProcedure},
		{"POST", "/api/v1/applicants", nil, s.registerApplicant},
		{"POST", "/api/v1/applicants/verify", nil, s.verifyApplicant},
		{"POST", "/api/v1/applications", applicants, s.createApplication},
		{"GET", "/api/v1/applications", applicantsOrPolice, s.listApplications},
		{"GET", "/api/v1/applications/{id}", applicantsOrPolice, s.getApplication},
		{"POST", "/api/v1/applications/{id}/documents", applicants, s.uploadDocument},
		{"GET", "/api/v1/applications/{id}/documents/{doc}", reviewers, s.getDocument},
		{"GET", "/api/v1/applications/{id}/notice.pdf", applicants, s.noticePDF},
		{"POST", "/api/v1/applications/{id}/decision", reviewers, s.decideApplication},
		{"GET", "/api/v1/applications/{id}/candidates", reviewers, s.applicationCandidates},
		{"POST", "/api/v1/applications/{id}/findings", reviewers, s.addFinding},
		{"POST", "/api/v1/applications/{id}/result", reviewers, s.writeResult},
		{"POST", "/api/v1/applications/{id}/footage-requests", reviewers, s.requestFootage},
		{"GET", "/api/v1/applications/{id}/footage-requests", reviewers, s.applicationFootageRequests},
		{"GET", "/api/v1/footage-requests", cameraOwners, s.ownerFootageRequests},
		{"GET", "/api/v1/footage-requests/{id}", cameraOwners, s.ownerFootageRequest},
		{"POST", "/api/v1/footage-requests/{id}/decision", cameraOwners, s.decideFootageRequest},
		{"POST", "/api/v1/applications/{id}/documents/shown", reviewers, s.documentShown},
		{"GET", "/api/v1/applications/{id}/contact", reviewers, s.applicantContact},
		{"GET", "/api/v1/applications/{id}/notices", reviewers, s.listNotices},
		{"POST", "/api/v1/applications/{id}/notices", reviewers, s.draftNotice},
		{"POST", "/api/v1/applications/{id}/notices/{nid}/approve", reviewers, s.approveNotice},
	}
}

func (s *Server) portal(w http.ResponseWriter, r *http.Request) error {
	p, err := s.Requests.Portal(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) procedures(w http.ResponseWriter, r *http.Request) error {
	cur, all, err := s.Requests.Procedures(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"current": cur, "versions": all})
	return nil
}

func (s *Server) publishProcedure(w http.ResponseWriter, r *http.Request) error {
	var in lostperson.ProcedureInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	p, err := s.Requests.PublishProcedure(r.Context(), &in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, p)
	return nil
}

func (s *Server) registerApplicant(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Contact  string `json:"contact"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	p, err := s.Requests.Register(r.Context(), in.Username, in.Password, in.Contact)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, p)
	return nil
}

func (s *Server) verifyApplicant(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		RegistrationID string `json:"registration_id"`
		Code           string `json:"code"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	u, err := s.Requests.Verify(r.Context(), in.RegistrationID, in.Code)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, u)
	return nil
}

func (s *Server) createApplication(w http.ResponseWriter, r *http.Request) error {
	var in lostperson.ApplicationInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	a, err := s.Requests.Submit(r.Context(), auth.UserFrom(r.Context()).ID, &in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": a.ID, "status": a.Status})
	return nil
}

// listApplications is an applicant's own applications, or the reviewers' queue
// (?status=submitted,accepted by default; &limit=).
func (s *Server) listApplications(w http.ResponseWriter, r *http.Request) error {
	u := auth.UserFrom(r.Context())
	if u.Role == auth.RoleApplicant {
		as, err := s.Requests.MyApplications(r.Context(), u.ID)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"applications": as})
		return nil
	}
	q := r.URL.Query()
	sts, err := lostperson.ParseStatuses(q.Get("status"))
	if err != nil {
		return err
	}
	limit, err := intParam(q.Get("limit"), "limit", 500, 1, 5000)
	if err != nil {
		return err
	}
	queue, err := s.Requests.ReviewQueue(r.Context(), sts, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, queue)
	return nil
}

func (s *Server) getApplication(w http.ResponseWriter, r *http.Request) error {
	u := auth.UserFrom(r.Context())
	var v any
	var err error
	if u.Role == auth.RoleApplicant {
		v, err = s.Requests.ForApplicant(r.Context(), u.ID, r.PathValue("id"))
	} else {
		v, err = s.Requests.ForReviewer(r.Context(), r.PathValue("id"))
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// uploadDocument takes multipart/form-data with a "kind" field (identity or relationship; or
// ?kind=) before a "file" part. The client's file name is ignored.
func (s *Server) uploadDocument(w http.ResponseWriter, r *http.Request) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "multipart/form-data" {
		return &apiError{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "send multipart/form-data"}
	}
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(uploadTime))
	r.Body = http.MaxBytesReader(w, r.Body, s.Requests.MaxUpload()+64<<10)
	mr, err := r.MultipartReader()
	if err != nil {
		return badRequest("", "malformed multipart body: %v", err)
	}
	kind := r.URL.Query().Get("kind")
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return badRequest("file", "no file part")
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return lostperson.TooLarge(s.Requests.MaxUpload())
			}
			return badRequest("", "malformed multipart body: %v", err)
		}
		switch part.FormName() {
		case "kind":
			b, err := io.ReadAll(io.LimitReader(part, 64))
			if err != nil {
				return badRequest("kind", "unreadable")
			}
			kind = string(b)
		case "file":
			if kind == "" {
				return badRequest("kind", "send the kind field before the file (identity or relationship)")
			}
			d, err := s.Requests.AddDocument(r.Context(), auth.UserFrom(r.Context()).ID, r.PathValue("id"), kind, part)
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusCreated, map[string]any{"id": d.ID, "kind": d.Kind, "content_type": d.ContentType, "bytes": d.Bytes})
			return nil
		}
		part.Close()
	}
}

func (s *Server) getDocument(w http.ResponseWriter, r *http.Request) error {
	d, f, err := s.Requests.OpenDocument(r.Context(), r.PathValue("id"), r.PathValue("doc"))
	if err != nil {
		return err
	}
	defer f.Close()
	w.Header().Set("Content-Type", d.ContentType)
	w.Header().Set("Content-Disposition", "attachment")
	w.Header().Set("Content-Length", strconv.FormatInt(d.Bytes, 10))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "sandbox")
	w.WriteHeader(http.StatusOK)
	io.Copy(w, f)
	return nil
}

func (s *Server) noticePDF(w http.ResponseWriter, r *http.Request) error {
	var buf bytes.Buffer
	if err := s.Requests.NoticePDF(r.Context(), auth.UserFrom(r.Context()).ID, r.PathValue("id"), &buf); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `inline; filename="result-notice.pdf"`)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
	return nil
}

func (s *Server) decideApplication(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Accept *bool  `json:"accept"`
		Reason string `json:"reason"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Accept == nil {
		return badRequest("accept", "is required (true or false)")
	}
	v, err := s.Requests.Decide(r.Context(), r.PathValue("id"), *in.Accept, in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// candidate is a candidate camera with the playback URL bound to the application.
type candidate struct {
	lostperson.Candidate
	Playback string `json:"playback"`
}

func (s *Server) applicationCandidates(w http.ResponseWriter, r *http.Request) error {
	c, err := s.Requests.SearchCandidates(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	out := make([]candidate, len(c.Cameras))
	for i, cam := range c.Cameras {
		from, to := c.From, c.To
		if cam.Basis == lostperson.BasisRequestApproved && cam.Request != nil {
			from, to = cam.Request.From, cam.Request.To // what the owner approved
		}
		q := url.Values{"application_id": {c.ApplicationID}, "start": {from.Format(time.RFC3339)}, "end": {to.Format(time.RFC3339)},
			"purpose": {"lost-person application"}}
		out[i] = candidate{cam, "/api/v1/cameras/" + cam.CameraID + "/playback.mp4?" + q.Encode()}
	}
	writeJSON(w, http.StatusOK, map[string]any{"application_id": c.ApplicationID, "from": c.From, "to": c.To,
		"radius_m": c.RadiusM, "cameras": out})
	return nil
}

func (s *Server) addFinding(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Body string `json:"body"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	f, err := s.Requests.AddFinding(r.Context(), r.PathValue("id"), in.Body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, f)
	return nil
}

// writeResult drafts the result notice (the route of before drafts: "notice" is the message);
// a second reviewer sends it with POST …/notices/{nid}/approve.
func (s *Server) writeResult(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Outcome        string     `json:"outcome"`
		Notice         string     `json:"notice"`
		LastSightingAt *time.Time `json:"last_sighting_at"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if _, err := s.Requests.DraftNotice(r.Context(), r.PathValue("id"),
		lostperson.NoticeInput{Outcome: in.Outcome, Message: in.Notice, LastSightingAt: in.LastSightingAt}); err != nil {
		return inLanguage(r, err)
	}
	v, err := s.Requests.ForReviewer(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// requestFootage sends a private candidate camera's owner a request for its footage in the
// application's window.
func (s *Server) requestFootage(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		CameraID string `json:"camera_id"`
		Reason   string `json:"reason"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	v, err := s.Requests.RequestFootage(r.Context(), r.PathValue("id"), in.CameraID, in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) applicationFootageRequests(w http.ResponseWriter, r *http.Request) error {
	vs, err := s.Requests.ApplicationRequests(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"footage_requests": vs})
	return nil
}

func (s *Server) ownerFootageRequests(w http.ResponseWriter, r *http.Request) error {
	vs, err := s.Requests.OwnerRequests(r.Context(), auth.UserFrom(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"footage_requests": vs})
	return nil
}

func (s *Server) ownerFootageRequest(w http.ResponseWriter, r *http.Request) error {
	v, err := s.Requests.OwnerRequest(r.Context(), auth.UserFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) decideFootageRequest(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Approve *bool  `json:"approve"`
		Note    string `json:"note"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Approve == nil {
		return badRequest("approve", "required: true to approve, false to decline")
	}
	v, err := s.Requests.DecideRequest(r.Context(), auth.UserFrom(r.Context()), r.PathValue("id"), *in.Approve, in.Note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// draftNotice writes a draft result notice, or a correction of the sent one.
func (s *Server) draftNotice(w http.ResponseWriter, r *http.Request) error {
	var in lostperson.NoticeInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	n, err := s.Requests.DraftNotice(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return inLanguage(r, err)
	}
	writeJSON(w, http.StatusCreated, n)
	return nil
}

func (s *Server) approveNotice(w http.ResponseWriter, r *http.Request) error {
	n, err := s.Requests.ApproveNotice(r.Context(), r.PathValue("id"), r.PathValue("nid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, n)
	return nil
}

func (s *Server) listNotices(w http.ResponseWriter, r *http.Request) error {
	ns, err := s.Requests.Notices(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"notices": ns})
	return nil
}

// documentShown records that a required document was shown in person: {"kind", "note"}.
func (s *Server) documentShown(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Kind string `json:"kind"`
		Note string `json:"note"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	d, err := s.Requests.RecordShown(r.Context(), r.PathValue("id"), in.Kind, in.Note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, d)
	return nil
}

func (s *Server) applicantContact(w http.ResponseWriter, r *http.Request) error {
	c, err := s.Requests.ContactFor(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// inLanguage answers a notice refused for what it discloses in the caller's language
// (Accept-Language: zh… gets Chinese), with the kind found as "reason" and both texts.
func inLanguage(r *http.Request, err error) error {
	var de *lostperson.DisclosureError
	if !errors.As(err, &de) {
		return err
	}
	msg := de.Message
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(r.Header.Get("Accept-Language"))), "zh") {
		msg = de.MessageZH
	}
	return &apiError{Status: http.StatusUnprocessableEntity, Code: "notice_discloses_" + de.Kind, Field: de.Field, Message: msg,
		Extra: map[string]any{"reason": de.Kind, "message_en": de.Message, "message_zh": de.MessageZH}}
}
