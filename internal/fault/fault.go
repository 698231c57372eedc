// Package fault names the kinds of failure every domain reports — not found, conflict, invalid
// input, forbidden, too large, unsupported, throttled, unavailable, unauthenticated — so that
// each face turns them into its own answer (an HTTP status, a form message, an exit code) in
// one place, with errors.Is and errors.As, never by reading an error's text.
//
// A domain returns ErrNotFound (or wraps it) for a missing object, and an *Error when the person
// who caused the failure should be told something: its Message is safe to show and its Code is
// stable, so a face can translate it; its Err is the detail, for the log only.
package fault

import (
	"errors"
	"fmt"
	"time"
)

// The sentinels. The store's ErrNotFound and ErrConflict are these, so a domain sees a missing
// row without importing the store.
var (
	// ErrNotFound is a missing object, or one outside the caller's reach (answered alike).
	ErrNotFound = errors.New("not found")
	// ErrConflict is a change refused because of the state it meets (a duplicate, a status).
	ErrConflict = errors.New("conflict")
	// ErrForbidden is a change the caller's role or organisation may not make.
	ErrForbidden = errors.New("forbidden")
)

// Kind is the class of an Error, which decides how every face answers it.
type Kind int

const (
	Invalid         Kind = iota + 1 // the input is wrong: fix the field and try again
	NotFound                        // no such object in the caller's reach
	Conflict                        // the object's state or a duplicate refuses the change
	Forbidden                       // the caller may not do this
	TooLarge                        // the input is larger than allowed
	Unsupported                     // the input is of a type not accepted
	Throttled                       // too many attempts: wait RetryAfter
	Unavailable                     // a dependency is down; nothing was done
	Unauthenticated                 // the caller is not who they claim: wrong credentials, no session
	Refused                         // understood, but a rule of the platform refuses it
)

var kindNames = map[Kind]string{Invalid: "invalid", NotFound: "not_found", Conflict: "conflict",
	Forbidden: "forbidden", TooLarge: "too_large", Unsupported: "unsupported_media_type",
	Throttled: "too_many_requests", Unavailable: "unavailable", Unauthenticated: "unauthenticated",
	Refused: "refused"}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is a failure whose Message may be shown to the person who caused it.
type Error struct {
	Kind Kind
	// Code is stable and machine-readable ("invalid", "invalid_state", "terms_changed"); empty
	// means the kind's name.
	Code string
	// Field is the input at fault, if one is.
	Field string
	// Message is safe to show, in English; faces translate by Code where they speak another
	// language.
	Message string
	// RetryAfter is how long to wait, for Throttled.
	RetryAfter time.Duration
	// Err is the cause, for the log; never shown.
	Err error
	// Traced says the domain has already put in the trail what it must hold of this failure
	// (a refused look at footage, traced under the look's own action), so a face does not
	// trace it again as a generic denial.
	Traced bool
}

func (e *Error) Error() string {
	s := e.Message
	if e.Field != "" {
		s = e.Field + ": " + s
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is lets errors.Is(err, ErrNotFound), ErrConflict and ErrForbidden see an Error of that kind.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Kind == NotFound
	case ErrConflict:
		return e.Kind == Conflict
	case ErrForbidden:
		return e.Kind == Forbidden
	}
	return false
}

// CodeOrKind is the error's code, or its kind's name when it has none.
func (e *Error) CodeOrKind() string {
	if e.Code != "" {
		return e.Code
	}
	return e.Kind.String()
}

// InvalidField is bad input in one field.
func InvalidField(field, format string, args ...any) *Error {
	return &Error{Kind: Invalid, Code: "invalid", Field: field, Message: fmt.Sprintf(format, args...)}
}

// Duplicate is a conflict with an object that already exists; what names it (`user "chief"`).
func Duplicate(what string) *Error {
	return &Error{Kind: Conflict, Code: "conflict", Message: "already exists: " + what}
}

// As returns the *Error in err's chain, if there is one.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
