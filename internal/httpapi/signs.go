package httpapi

import (
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/registry"
)

// signRoutes are the routes of reminder signs (REG-7) and maintenance (REG-5): reading a
// camera's sign or plan is open to whoever sees its record; changing them to its managers.
func (s *Server) signRoutes() []Route {
	return []Route{
		{"GET", "/api/v1/cameras/{id}/sign", staff, s.getSign},
		{"PUT", "/api/v1/cameras/{id}/sign", managers, s.putSign},
		{"GET", "/api/v1/cameras/{id}/sign/photo", staff, s.getSignPhoto},
		{"PUT", "/api/v1/cameras/{id}/sign/photo", managers, s.putSignPhoto},
		{"GET", "/api/v1/cameras/{id}/maintenance", staff, s.getMaintenancePlan},
		{"POST", "/api/v1/cameras/{id}/maintenance/orders", managers, s.openWorkOrder},
		{"GET", "/api/v1/maintenance/orders", staff, s.listWorkOrders},
		{"POST", "/api/v1/maintenance/orders/{id}/done", managers, s.completeWorkOrder},
	}
}

// signOps document signRoutes.
func (s *Server) signOps(c *schemas) map[string]op {
	out := func(v any) schema { return c.of(reflect.TypeOf(v), true) }
	in := func(v any) schema { return c.of(reflect.TypeOf(v), false) }
	sign, order := out(registry.Sign{}), out(registry.WorkOrder{})
	return map[string]op{
		"GET /api/v1/cameras/{id}/sign": {Summary: "A camera's reminder sign: installed, last checked and by whom, its photo's hash, when the next check is due",
			Status: http.StatusOK, Result: sign},
		"PUT /api/v1/cameras/{id}/sign": {Summary: "Record a camera's sign as installed or not, or a check of it (no future dates)",
			Body: in(registry.SignInput{}), Status: http.StatusOK, Result: sign},
		"GET /api/v1/cameras/{id}/sign/photo": {Summary: "The photo of a camera's sign, re-encoded without metadata; each look is traced",
			Status: http.StatusOK, ResultType: registry.PhotoJPEG,
			Also: []answer{{Status: http.StatusOK, ContentType: registry.PhotoPNG, Description: "A PNG photo."}}},
		"PUT /api/v1/cameras/{id}/sign/photo": {Summary: "Upload the photo of a sign check (JPEG or PNG, sniffed; EXIF and other metadata dropped; at most 8 MiB)",
			ContentType: "application/octet-stream", Status: http.StatusOK, Result: sign},
		"GET /api/v1/cameras/{id}/maintenance": {Summary: "A camera's maintenance plan: interval, last done, next due, open orders and history",
			Status: http.StatusOK, Result: out(registry.MaintenancePlan{})},
		"POST /api/v1/cameras/{id}/maintenance/orders": {Summary: "Open a maintenance work order by hand",
			Body: input(map[string]schema{"detail": str}), Status: http.StatusCreated, Result: order},
		"GET /api/v1/maintenance/orders": {Summary: "Maintenance work orders in the caller's reach, the newest first",
			Query: []param{q("status", "open or done.", schema{"type": "string", "enum": []any{"open", "done"}}),
				q("camera_id", "Only this camera's.", str), q("limit", "How many at most (default and most 1000).", integer)},
			Status: http.StatusOK, Result: object(map[string]schema{"orders": list(order)})},
		"POST /api/v1/maintenance/orders/{id}/done": {Summary: "Mark a work order done with notes (done_at defaults to now; no future dates)",
			Body: input(map[string]schema{"notes": str, "done_at": dateTime}), Status: http.StatusOK, Result: order},
	}
}

func (s *Server) getSign(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return errNotFound
	}
	sg, err := s.reg.Sign(r.Context(), access.ScopeOf(auth.UserFrom(r.Context())), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sg)
	return nil
}

func (s *Server) putSign(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return errNotFound
	}
	var in registry.SignInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	u := auth.UserFrom(r.Context())
	sg, err := s.reg.UpdateSign(r.Context(), access.WriteScope(u), u, id, &in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sg)
	return nil
}

func (s *Server) putSignPhoto(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return errNotFound
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, registry.MaxSignPhotoBytes+1))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &apiError{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Message: "the photo is larger than 8 MiB"}
	}
	if err != nil {
		return err
	}
	if b == nil {
		b = []byte{}
	}
	u := auth.UserFrom(r.Context())
	sg, err := s.reg.UpdateSign(r.Context(), access.WriteScope(u), u, id, &registry.SignInput{Photo: b})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sg)
	return nil
}

func (s *Server) getSignPhoto(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return errNotFound
	}
	p, err := s.reg.SignPhoto(r.Context(), access.ScopeOf(auth.UserFrom(r.Context())), id)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", p.Type)
	h.Set("Content-Length", strconv.Itoa(len(p.Data)))
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'")
	w.WriteHeader(http.StatusOK)
	w.Write(p.Data)
	return nil
}

func (s *Server) getMaintenancePlan(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return errNotFound
	}
	p, err := s.reg.MaintenancePlan(r.Context(), access.ScopeOf(auth.UserFrom(r.Context())), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) openWorkOrder(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return errNotFound
	}
	var in struct {
		Detail string `json:"detail"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	u := auth.UserFrom(r.Context())
	o, err := s.reg.OpenWorkOrder(r.Context(), access.WriteScope(u), u, id, in.Detail)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, o)
	return nil
}

func (s *Server) listWorkOrders(w http.ResponseWriter, r *http.Request) error {
	qv := r.URL.Query()
	limit, err := intParam(qv.Get("limit"), "limit", 1000, 1, 1000)
	if err != nil {
		return err
	}
	os, err := s.reg.WorkOrders(r.Context(), access.ScopeOf(auth.UserFrom(r.Context())),
		registry.WorkOrderFilter{CameraID: qv.Get("camera_id"), Status: qv.Get("status"), Limit: limit})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"orders": os})
	return nil
}

func (s *Server) completeWorkOrder(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return errNotFound
	}
	var in struct {
		Notes  string     `json:"notes"`
		DoneAt *time.Time `json:"done_at"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	u := auth.UserFrom(r.Context())
	o, err := s.reg.CompleteWorkOrder(r.Context(), access.WriteScope(u), u, id, in.DoneAt, in.Notes)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}
