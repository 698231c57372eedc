package footage

import (
	"strings"
	"testing"
	"time"

	"civicam/internal/access"
	"civicam/internal/fault"
)

var t0 = time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)

func TestCheckRequest(t *testing.T) {
	ok := Request{CameraID: "x", Start: t0, End: t0.Add(time.Minute), Purpose: " incident 7 ", CaseRef: "case 7"}
	tests := []struct {
		name  string
		use   access.Use
		edit  func(*Request)
		field string // "" when valid
	}{
		{"playback", access.Playback, nil, ""},
		{"no start", access.Playback, func(r *Request) { r.Start = time.Time{} }, "start"},
		{"no end", access.Playback, func(r *Request) { r.End = time.Time{} }, "end"},
		{"empty range", access.Export, func(r *Request) { r.End = r.Start }, "end"},
		{"blank purpose", access.Playback, func(r *Request) { r.Purpose = "  " }, "purpose"},
		{"long purpose", access.Playback, func(r *Request) { r.Purpose = strings.Repeat("x", 501) }, "purpose"},
		{"long case", access.Playback, func(r *Request) { r.CaseRef = strings.Repeat("x", 201) }, "case_ref"},
		{"bad application", access.Playback, func(r *Request) { r.ApplicationID = "../x" }, "application_id"},
		{"export without a case", access.Export, func(r *Request) { r.CaseRef = "" }, "case_ref"},
		{"playback without a case", access.Playback, func(r *Request) { r.CaseRef = "" }, ""},
		{"live has no range", access.Live, func(r *Request) { r.Start, r.End = time.Time{}, time.Time{} }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			if tt.edit != nil {
				tt.edit(&r)
			}
			err := checkRequest(tt.use, &r)
			fe, isFault := fault.As(err)
			switch {
			case tt.field == "" && err != nil:
				t.Errorf("checkRequest(%s) = %v; want nil", tt.name, err)
			case tt.field != "" && (!isFault || fe.Field != tt.field || fe.Kind != fault.Invalid):
				t.Errorf("checkRequest(%s) = %v; want invalid %s", tt.name, err, tt.field)
			}
			if err == nil && r.Purpose != strings.TrimSpace(r.Purpose) {
				t.Errorf("checkRequest(%s) left purpose %q untrimmed", tt.name, r.Purpose)
			}
		})
	}
}
