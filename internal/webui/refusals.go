package webui

import (
	"errors"
	"net/http"

	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/lostperson"
	"civicam/internal/registry"
	"civicam/internal/sharing"
)

// refusalStatus is a form's status for each kind of refusal the person can act on; the other
// kinds (unavailable, unauthenticated, refused) are not the form's to explain.
var refusalStatus = map[fault.Kind]int{
	fault.Invalid:     http.StatusBadRequest,
	fault.Conflict:    http.StatusConflict,
	fault.Forbidden:   http.StatusForbidden,
	fault.TooLarge:    http.StatusRequestEntityTooLarge,
	fault.Unsupported: http.StatusUnsupportedMediaType,
	fault.Throttled:   http.StatusTooManyRequests,
}

// refusalMessages are the refusals the pages word themselves, in the reader's language, rather
// than showing the domain's English message; the first whose error errors.Is finds wins.
var refusalMessages = []struct {
	err    error
	status int
	key    string
}{
	{lostperson.ErrState, http.StatusConflict, "app.err_state"},
	{lostperson.ErrCode, http.StatusBadRequest, "app.err_code"},
	{auth.ErrBusy, http.StatusServiceUnavailable, "error.busy"},
	{lostperson.ErrLimit, http.StatusUnprocessableEntity, "app.err_limit"},
	{lostperson.ErrTooMany, http.StatusTooManyRequests, "app.err_too_many"},
	{lostperson.ErrTooLarge, http.StatusRequestEntityTooLarge, "app.err_too_large"},
	{lostperson.ErrFileType, http.StatusUnsupportedMediaType, "app.err_file_type"},
	{sharing.ErrTermsChanged, http.StatusConflict, "sharing.terms_changed"},
}

// formRefusal sorts what a service returned for a form, for every form of the UI. A refusal the
// person can act on — bad input, a conflict, a limit — becomes a status and a message to show on
// the form (page nil). An object missing or outside the caller's reach becomes the not-found page,
// which wrap traces as a denial; anything else, the trail's failure included, is returned as page
// for wrap to log and answer.
func formRefusal(m Messages, err error) (status int, msg string, page error) {
	if errors.Is(err, fault.ErrNotFound) {
		return 0, "", errNotFound
	}
	for _, r := range refusalMessages {
		if errors.Is(err, r.err) {
			return r.status, m.T(r.key), nil
		}
	}
	// A notice's words refused for what they disclose, and an acceptance refused for missing
	// documents, are the reviewer's to fix: said in the reader's language.
	var de *lostperson.DisclosureError
	if errors.As(err, &de) {
		return http.StatusUnprocessableEntity, fieldMessage(m, m.T("review.notice"), pick(m, de.Message, de.MessageZH)+" ("+de.Match+")"), nil
	}
	if fe, ok := fault.As(err); ok && errors.Is(err, lostperson.ErrDocumentsMissing) {
		return http.StatusUnprocessableEntity, fe.Message, nil
	}
	var inv *registry.InvalidError
	if errors.As(err, &inv) {
		return http.StatusBadRequest, fieldMessage(m, inv.Field, inv.Message), nil
	}
	var pe *registry.PolicyError
	if errors.As(err, &pe) && len(pe.Decisions) > 0 {
		d := pe.Decisions[0]
		return http.StatusUnprocessableEntity, fieldMessage(m, d.Field, d.Reason), nil
	}
	fe, ok := fault.As(err)
	if !ok {
		if errors.Is(err, fault.ErrConflict) {
			return http.StatusConflict, m.T("admin.conflict"), nil
		}
		return 0, "", err
	}
	status, ok = refusalStatus[fe.Kind]
	if !ok {
		return 0, "", err
	}
	if fe.Kind == fault.Conflict && fe.CodeOrKind() == "conflict" {
		// A duplicate: the name is taken (fault.Duplicate's message names the object in English).
		return status, m.T("admin.conflict"), nil
	}
	return status, fieldMessage(m, fe.Field, fe.Message), nil
}

// showRefusal answers a form whose service refused: show(status, message) draws the form again
// with a refusal the person can act on; anything else goes to wrap as formRefusal sorts it.
func showRefusal(m Messages, err error, show func(status int, msg string) error) error {
	status, msg, page := formRefusal(m, err)
	if page != nil {
		return page
	}
	return show(status, msg)
}

// fieldMessage is a refusal's message, after the field it is about when there is one.
func fieldMessage(m Messages, field, msg string) string {
	if field == "" {
		return msg
	}
	return m.T("app.invalid", field, msg)
}
