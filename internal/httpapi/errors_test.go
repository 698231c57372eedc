package httpapi

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"civicam/internal/fault"
	"civicam/internal/trace"
)

// TestClassify pins the one mapping from the domains' failures to the API's answers, through
// the wrapping every layer adds.
func TestClassify(t *testing.T) {
	tests := []struct {
		name        string
		err         error
		status      int
		code, field string
		retryAfterS int
	}{
		{"not found sentinel", fmt.Errorf("camera x: %w", fault.ErrNotFound), http.StatusNotFound, "not_found", "", 0},
		{"invalid field", fmt.Errorf("create: %w", fault.InvalidField("username", "is required")), http.StatusBadRequest, "invalid", "username", 0},
		{"duplicate", fmt.Errorf("insert: %w", fault.Duplicate(`user "chief"`)), http.StatusConflict, "conflict", "", 0},
		{"throttled", &fault.Error{Kind: fault.Throttled, Code: "throttled", Message: "wait", RetryAfter: 1500 * time.Millisecond}, http.StatusTooManyRequests, "throttled", "", 2},
		{"unsupported", &fault.Error{Kind: fault.Unsupported, Message: "send a PDF"}, http.StatusUnsupportedMediaType, "unsupported_media_type", "", 0},
		{"too large", &fault.Error{Kind: fault.TooLarge, Field: "file", Message: "at most 5 MiB"}, http.StatusRequestEntityTooLarge, "too_large", "file", 0},
		{"forbidden", &fault.Error{Kind: fault.Forbidden, Message: "not yours"}, http.StatusForbidden, "forbidden", "", 0},
		{"bad credentials", &fault.Error{Kind: fault.Unauthenticated, Code: "bad_credentials", Message: "wrong username or password"}, http.StatusUnauthorized, "bad_credentials", "", 0},
		{"trail down", fmt.Errorf("grant: %w", trace.ErrUnavailable), http.StatusServiceUnavailable, "trace_unavailable", "", 0},
		{"unknown", fmt.Errorf("disk on fire"), http.StatusInternalServerError, "internal", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ae := classify(tt.err)
			if ae.Status != tt.status || ae.Code != tt.code || ae.Field != tt.field {
				t.Errorf("classify(%v) = %d %s %q; want %d %s %q", tt.err, ae.Status, ae.Code, ae.Field, tt.status, tt.code, tt.field)
			}
			if got, _ := ae.Extra["retry_after_s"].(int); got != tt.retryAfterS {
				t.Errorf("classify(%v) retry_after_s = %d; want %d", tt.err, got, tt.retryAfterS)
			}
		})
	}
}
