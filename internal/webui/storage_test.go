package webui

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/recorder"
	"civicam/internal/registry"
	"civicam/internal/retention"
)

// fakeRecorder reports every camera recording at a fixed bitrate.
type fakeRecorder struct{ ids []string }

func (f fakeRecorder) Statuses() []recorder.Status {
	var out []recorder.Status
	for _, id := range f.ids {
		out = append(out, recorder.Status{CameraID: id, State: recorder.StateRecording, Bitrate: 4_000_000})
	}
	return out
}

// TestComplianceStorageForecast: with a storage location too small for the floor at the
// cameras' intake, the dashboard charts the days held against the floor, says the floor is at
// risk, and lists the storage_below_floor findings.
func TestComplianceStorageForecast(t *testing.T) {
	s := newStack(t)
	org := s.addOrg("株洲市公安局", registry.KindDepartment, "public_security")
	s.addUser("chief", auth.RoleAdmin, "")
	active := registry.StatusActive
	cam := s.addCamera(org, "火车站广场", 27.8305, 113.1510, func(in *registry.CameraInput) {
		in.Status = &active
		yes := true
		in.Networked, in.SignInstalled = &yes, &yes
	})
	// 4 Mbit/s is 43 GB a day; 100 GiB holds about two and a half days, far below 30.
	planner := s.planner100GiB(fakeRecorder{ids: []string{cam}})
	s.serveStorage(planner)

	p := s.loggedIn("chief").get("/compliance")
	if p.status != http.StatusOK {
		t.Fatalf("GET /compliance = %d", p.status)
	}
	mustContain(t, "compliance dashboard", p.body, `id="storage-forecast"`, `id="storage-table"`, "Cannot hold the retention floor",
		"storage_below_floor", "local: Days held at current intake", "local: Retention floor (days)")
}

// TestComplianceStorageBeforeForecast: before anything is recorded there is no intake to
// forecast by, and the dashboard says so rather than that the floor is held with 0 B kept.
func TestComplianceStorageBeforeForecast(t *testing.T) {
	s := newStack(t)
	s.addUser("chief", auth.RoleAdmin, "")
	planner := s.planner100GiB(fakeRecorder{})
	s.serveStorage(planner)

	p := s.loggedIn("chief").get("/compliance")
	if p.status != http.StatusOK {
		t.Fatalf("GET /compliance = %d", p.status)
	}
	mustContain(t, "compliance dashboard before a forecast", p.body, `id="storage-table"`, "No forecast yet")
	mustNotContain(t, "compliance dashboard before a forecast", p.body, "Holds the floor")
}

// planner100GiB forecasts one local location with 100 GiB free of 200 for what rec records.
func (s *stack) planner100GiB(rec fakeRecorder) *retention.Planner {
	return retention.NewPlanner(retention.PlannerConfig{Locations: []retention.Location{{Name: "local", Root: s.t.TempDir()}}},
		retention.PlannerDeps{Index: s.db, Registry: s.reg, Recorder: rec,
			Free: func(string) (int64, int64, error) { return 100 << 30, 200 << 30, nil }, Now: time.Now})
}

// serveStorage serves the English web UI with planner as its storage forecast in place of
// the stack's own server.
func (s *stack) serveStorage(planner *retention.Planner) {
	s.t.Helper()
	ui, err := New(Config{Language: "en"}, Deps{APIRoles: s.api.Roles(), Accounts: s.accounts, Registry: s.reg, Footage: s.looks, Trail: s.trail, Users: s.db, Tracer: s.tracer,
		Logger: slog.New(slog.DiscardHandler), Storage: planner})
	if err != nil {
		s.t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", s.api.Handler())
	mux.Handle("/", ui.Handler())
	srv := httptest.NewServer(mux)
	s.t.Cleanup(srv.Close)
	s.srv = srv
}
