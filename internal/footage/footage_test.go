package footage

import (
	"strings"
	"testing"
	"time"

	"civicam/internal/access"
	"civicam/internal/fault"
	"civicam/internal/segment"
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

func TestWithOpenSegment(t *testing.T) {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	rg := func(a, b int) segment.TimeRange { return segment.TimeRange{Start: at(a), End: at(b)} }
	tests := []struct {
		name        string
		cov         segment.Coverage
		from, to    int
		ranges, gap []segment.TimeRange
	}{
		{"nothing sealed", segment.Coverage{Gaps: []segment.TimeRange{rg(0, 100)}}, 60, 90,
			[]segment.TimeRange{rg(60, 90)}, []segment.TimeRange{rg(0, 60), rg(90, 100)}},
		{"continues the last sealed segment", segment.Coverage{Ranges: []segment.TimeRange{rg(0, 60)}, Gaps: []segment.TimeRange{rg(60, 100)}}, 61, 90,
			[]segment.TimeRange{rg(0, 90)}, []segment.TimeRange{rg(90, 100)}},
		{"after a gap", segment.Coverage{Ranges: []segment.TimeRange{rg(0, 30)}, Gaps: []segment.TimeRange{rg(30, 100)}}, 50, 120,
			[]segment.TimeRange{rg(0, 30), rg(50, 100)}, []segment.TimeRange{rg(30, 50)}},
		{"outside the window", segment.Coverage{Ranges: []segment.TimeRange{rg(0, 100)}}, 100, 120,
			[]segment.TimeRange{rg(0, 100)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := withOpenSegment(tt.cov, at(0), at(100), at(tt.from), at(tt.to))
			if !equalRanges(got.Ranges, tt.ranges) || !equalRanges(got.Gaps, tt.gap) {
				t.Errorf("withOpenSegment(%s) = %v / %v; want %v / %v", tt.name, got.Ranges, got.Gaps, tt.ranges, tt.gap)
			}
		})
	}
}

func equalRanges(a, b []segment.TimeRange) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Start.Equal(b[i].Start) || !a[i].End.Equal(b[i].End) {
			return false
		}
	}
	return true
}
