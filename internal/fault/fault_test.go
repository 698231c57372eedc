package fault_test

import (
	"errors"
	"fmt"
	"testing"

	"civicam/internal/fault"
)

func TestIsAndAs(t *testing.T) {
	cause := errors.New("disk on fire")
	tests := []struct {
		name     string
		err      error
		sentinel error
		want     bool
	}{
		{"not found kind is ErrNotFound", &fault.Error{Kind: fault.NotFound}, fault.ErrNotFound, true},
		{"wrapped twice still seen", fmt.Errorf("camera x: %w", fmt.Errorf("lookup: %w", &fault.Error{Kind: fault.Conflict})), fault.ErrConflict, true},
		{"forbidden kind is ErrForbidden", &fault.Error{Kind: fault.Forbidden}, fault.ErrForbidden, true},
		{"invalid is not not-found", fault.InvalidField("name", "is required"), fault.ErrNotFound, false},
		{"duplicate is a conflict", fault.Duplicate(`user "chief"`), fault.ErrConflict, true},
		{"cause is seen through", &fault.Error{Kind: fault.Unavailable, Err: cause}, cause, true},
		{"plain sentinel wrapped", fmt.Errorf("row: %w", fault.ErrNotFound), fault.ErrNotFound, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(tt.err, tt.sentinel); got != tt.want {
				t.Errorf("errors.Is(%v, %v) = %v; want %v", tt.err, tt.sentinel, got, tt.want)
			}
		})
	}
	wrapped := fmt.Errorf("create: %w", fault.InvalidField("username", "must be %d-%d characters", 3, 64))
	e, ok := fault.As(wrapped)
	if !ok || e.Field != "username" || e.Message != "must be 3-64 characters" || e.CodeOrKind() != "invalid" {
		t.Errorf("As(%v) = %+v, %v; want the invalid username error", wrapped, e, ok)
	}
	if _, ok := fault.As(errors.New("plain")); ok {
		t.Errorf("As(plain error) found an Error")
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		err  *fault.Error
		want string
	}{
		{fault.InvalidField("lat", "must be between -90 and 90"), "lat: must be between -90 and 90"},
		{&fault.Error{Kind: fault.Unavailable, Message: "trail down", Err: errors.New("disk full")}, "trail down: disk full"},
		{fault.Duplicate(`organisation "PSB"`), `already exists: organisation "PSB"`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q; want %q", got, tt.want)
		}
	}
	if got := (&fault.Error{Kind: fault.Throttled}).CodeOrKind(); got != "too_many_requests" {
		t.Errorf("CodeOrKind() = %q; want too_many_requests", got)
	}
	if got := (&fault.Error{Kind: fault.Unauthenticated}).CodeOrKind(); got != "unauthenticated" {
		t.Errorf("CodeOrKind() = %q; want unauthenticated", got)
	}
}
