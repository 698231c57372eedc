package webui

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"civicam/internal/fault"
	"civicam/internal/lostperson"
	"civicam/internal/registry"
	"civicam/internal/sharing"
	"civicam/internal/trace"
)

// TestFormRefusal: every form sorts a service's error the same way — through any wrapping — into
// a message on the form, the not-found page, or the error for wrap to answer.
func TestFormRefusal(t *testing.T) {
	c, err := loadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	m := Messages{Lang: "en", m: c["en"]}
	tests := []struct {
		name   string
		err    error
		status int
		msg    string
		page   string // "" (a message on the form), "not found" (the page) or "itself" (for wrap)
	}{
		{"invalid field", fmt.Errorf("create: %w", fault.InvalidField("username", "is required")), http.StatusBadRequest, "username: is required", ""},
		{"registry invalid", fmt.Errorf("camera: %w", &registry.InvalidError{Field: "lat", Message: "out of range"}), http.StatusBadRequest, "lat: out of range", ""},
		{"invalid without field", &fault.Error{Kind: fault.Invalid, Message: "pick a camera"}, http.StatusBadRequest, "pick a camera", ""},
		{"duplicate", fmt.Errorf("store: %w", fault.Duplicate(`user "chief"`)), http.StatusConflict, m.T("admin.conflict"), ""},
		{"bare conflict sentinel", fmt.Errorf("x: %w", fault.ErrConflict), http.StatusConflict, m.T("admin.conflict"), ""},
		{"other conflict keeps its message", &fault.Error{Kind: fault.Conflict, Code: "already_revoked", Message: "already revoked"}, http.StatusConflict, "already revoked", ""},
		{"forbidden", &fault.Error{Kind: fault.Forbidden, Message: "not your grant"}, http.StatusForbidden, "not your grant", ""},
		{"application state", fmt.Errorf("decide: %w", lostperson.ErrState), http.StatusConflict, m.T("app.err_state"), ""},
		{"verification code", fmt.Errorf("verify: %w", &fault.Error{Kind: fault.Invalid, Field: "code", Message: "expired", Err: lostperson.ErrCode}), http.StatusBadRequest, m.T("app.err_code"), ""},
		{"too many codes", &fault.Error{Kind: fault.Throttled, Err: lostperson.ErrTooMany}, http.StatusTooManyRequests, m.T("app.err_too_many"), ""},
		{"upload too large", &fault.Error{Kind: fault.TooLarge, Field: "file", Err: lostperson.ErrTooLarge}, http.StatusRequestEntityTooLarge, m.T("app.err_too_large"), ""},
		{"upload type", &fault.Error{Kind: fault.Unsupported, Field: "file", Err: lostperson.ErrFileType}, http.StatusUnsupportedMediaType, m.T("app.err_file_type"), ""},
		{"terms changed", fmt.Errorf("grant: %w", sharing.ErrTermsChanged), http.StatusConflict, m.T("sharing.terms_changed"), ""},
		{"not found", fmt.Errorf("grant g1: %w", fault.ErrNotFound), 0, "", "not found"},
		{"not found kind", &fault.Error{Kind: fault.NotFound}, 0, "", "not found"},
		{"trail down", fmt.Errorf("record: %w", trace.ErrUnavailable), 0, "", "itself"},
		{"unauthenticated is not the form's", &fault.Error{Kind: fault.Unauthenticated, Message: "no session"}, 0, "", "itself"},
		{"anything else", fmt.Errorf("list: %w", errors.New("disk on fire")), 0, "", "itself"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, msg, page := formRefusal(m, tt.err)
			if status != tt.status || msg != tt.msg {
				t.Errorf("formRefusal(%v) = %d, %q; want %d, %q", tt.err, status, msg, tt.status, tt.msg)
			}
			want := map[string]error{"": nil, "not found": errNotFound, "itself": tt.err}[tt.page]
			if page != want {
				t.Errorf("formRefusal(%v) page = %v; want %v", tt.err, page, want)
			}
		})
	}
}
