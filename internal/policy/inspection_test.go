package policy

import (
	"testing"
	"time"
)

func TestInspections(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	in := p.Inspections()
	for _, tt := range []struct {
		est  string
		want bool
	}{{"hotel", true}, {"public_bath", true}, {"bank", false}, {"", false}} {
		if got := in.Required(tt.est); got != tt.want {
			t.Errorf("Inspections().Required(%q) = %v; want %v", tt.est, got, tt.want)
		}
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name string
		last time.Time
		want bool
	}{
		{"never", time.Time{}, true},
		{"yesterday", now.AddDate(0, 0, -1), false},
		{"at the interval", now.AddDate(0, 0, -in.IntervalDays), false},
		{"past the interval", now.AddDate(0, 0, -in.IntervalDays).Add(-time.Second), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, got := p.InspectionOverdue("floor 2", tt.last, now)
			if got != tt.want {
				t.Fatalf("InspectionOverdue(%v) = %v; want %v", tt.last, got, tt.want)
			}
			if got && (f.Code != CodeInspectionOverdue || f.Rule != "ZZ-HIDDEN-CAMERA-INSPECTIONS") {
				t.Errorf("InspectionOverdue finding = %+v; want code %s, rule ZZ-HIDDEN-CAMERA-INSPECTIONS", f, CodeInspectionOverdue)
			}
		})
	}
}
