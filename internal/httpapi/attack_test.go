package httpapi_test

// The threat model, as attacks on the running server (issue 12): each test is one thing a
// determined intruder tried, and what the server must do instead of what it did.

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"civicam/internal/auth"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

// TestAttackReversedTraceRangeIsNoOutage: a query whose until lies before its since was answered
// 503 trace_unavailable (and logged as a trail outage), because the entry for the read was
// refused for its range. Bad input is a 400; a false alarm would hide a real outage.
func TestAttackReversedTraceRangeIsNoOutage(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newStack(t, db)
		_, tok := s.addUser("auditor1", auth.RoleAuditor, "")
		res := s.do("GET", "/api/v1/trace?since=2026-09-01T21:00:00Z&until=2026-09-01T20:00:00Z", tok, "", "")
		var body struct {
			Error struct{ Code, Field string }
		}
		json.Unmarshal(res.body, &body)
		if res.status != http.StatusBadRequest || body.Error.Field != "until" {
			t.Errorf("GET /api/v1/trace with until before since = %d %s; want 400 on until", res.status, res.body)
		}
	})
}

// TestAttackOversizedImportIs413: a CSV import past the size bound was answered 400
// invalid_import, as if the file were malformed; it is too large, and says so.
func TestAttackOversizedImportIs413(t *testing.T) {
	s := newStack(t, storetest.SQLite(t))
	_, tok := s.addUser("admin1", auth.RoleAdmin, "")
	body := "name\n\"" + strings.Repeat("x", 65<<20) + "\"\n"
	res := s.do("POST", "/api/v1/cameras/import", tok, "text/csv", body)
	if res.status != http.StatusRequestEntityTooLarge {
		t.Errorf("POST /api/v1/cameras/import of 65 MiB = %d %.200s; want 413", res.status, res.body)
	}
}
