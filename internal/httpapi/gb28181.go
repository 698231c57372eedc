package httpapi

import (
	"net/http"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/gb28181"
)

// GB/T 28181 devices (issue 14): who may see them and adopt them follows camera administration.
// Admins see and adopt every device; operators see their organisation's and the pending ones and
// adopt into their own organisation; auditors read.
var (
	gbReaders  = []auth.Role{auth.RoleAdmin, auth.RoleOperator, auth.RoleAuditor}
	gbManagers = []auth.Role{auth.RoleAdmin, auth.RoleOperator}
)

func (s *Server) gbRoutes() []Route {
	return []Route{
		{"GET", "/api/v1/gb28181/devices", gbReaders, s.gbDevices},
		{"GET", "/api/v1/gb28181/devices/{id}", gbReaders, s.gbDevice},
		{"POST", "/api/v1/gb28181/devices/{id}/catalog", gbManagers, s.gbCatalog},
		{"POST", "/api/v1/gb28181/devices/{id}/adopt", gbManagers, s.gbAdopt},
		{"GET", "/api/v1/gb28181/devices/{id}/channels/{cid}/records", gbReaders, s.gbRecords},
		// How a device authenticates decides who may pose as it: admins only.
		{"PUT", "/api/v1/gb28181/devices/{id}/auth", []auth.Role{auth.RoleAdmin}, s.gbAuth},
	}
}

// gbRecords lists what a channel keeps on its device's own storage for ?start=&end= (RFC 3339;
// the device is asked in start's offset, as devices keep local time): {"records": [...],
// "complete"}. The device answers over SIP within seconds, or the answer is 503.
func (s *Server) gbRecords(w http.ResponseWriter, r *http.Request) error {
	if s.gb == nil || !gb28181.ValidDeviceID(r.PathValue("id")) {
		return errNotFound
	}
	q := r.URL.Query()
	start, err := timeParam(q.Get("start"), "start")
	if err != nil {
		return err
	}
	end, err := timeParam(q.Get("end"), "end")
	if err != nil {
		return err
	}
	recs, err := s.gb.RecordInfo(r.Context(), access.ScopeOf(auth.UserFrom(r.Context())), r.PathValue("id"), r.PathValue("cid"), start, end)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, recs)
	return nil
}

// gbDevices lists the devices the caller sees; with the platform off, none.
func (s *Server) gbDevices(w http.ResponseWriter, r *http.Request) error {
	ds := []*gb28181.Device{}
	if s.gb != nil {
		got, err := s.gb.Devices(r.Context(), access.ScopeOf(auth.UserFrom(r.Context())))
		if err != nil {
			return err
		}
		ds = append(ds, got...)
	}
	return writePage(w, r, "devices", ds, 1, func(d *gb28181.Device) []string { return []string{d.ID} }, false)
}

func (s *Server) gbDevice(w http.ResponseWriter, r *http.Request) error {
	if s.gb == nil || !gb28181.ValidDeviceID(r.PathValue("id")) {
		return errNotFound
	}
	d, err := s.gb.Device(r.Context(), access.ScopeOf(auth.UserFrom(r.Context())), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// gbCatalog asks the device for its catalog again: 202, the channels arrive over SIP.
func (s *Server) gbCatalog(w http.ResponseWriter, r *http.Request) error {
	if s.gb == nil || !gb28181.ValidDeviceID(r.PathValue("id")) {
		return errNotFound
	}
	if err := s.gb.RefreshCatalog(r.Context(), access.WriteScope(auth.UserFrom(r.Context())), r.PathValue("id")); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"status": "queried"})
	return nil
}

func (s *Server) gbAdopt(w http.ResponseWriter, r *http.Request) error {
	if s.gb == nil || !gb28181.ValidDeviceID(r.PathValue("id")) {
		return errNotFound
	}
	var in gb28181.AdoptInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	d, err := s.gb.Adopt(r.Context(), access.WriteScope(auth.UserFrom(r.Context())), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// gbAuth sets how a device authenticates its REGISTERs, {"auth": "global"|"password"|"none",
// "password"}; a device not yet known is entered pending, so that one that cannot answer a digest
// may register at all.
func (s *Server) gbAuth(w http.ResponseWriter, r *http.Request) error {
	if s.gb == nil || !gb28181.ValidDeviceID(r.PathValue("id")) {
		return errNotFound
	}
	var in gb28181.DeviceAuth
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	d, err := s.gb.SetAuth(r.Context(), access.WriteScope(auth.UserFrom(r.Context())), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}
