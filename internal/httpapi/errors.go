package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"civicam/internal/fault"
	"civicam/internal/lostperson"
	"civicam/internal/registry"
	"civicam/internal/trace"
)

// apiError is an error with its HTTP status and client-safe code, message and field.
type apiError struct {
	Status  int
	Code    string
	Message string
	Field   string
	Extra   map[string]any
}

func (e *apiError) Error() string {
	if e.Field != "" {
		return e.Code + ": " + e.Field + ": " + e.Message
	}
	return e.Code + ": " + e.Message
}

var (
	errUnauthenticated = &apiError{Status: http.StatusUnauthorized, Code: "unauthenticated", Message: "log in first"}
	errForbidden       = &apiError{Status: http.StatusForbidden, Code: "forbidden", Message: "your role may not do this"}
	errNotFound        = &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such object"}
	errTraceDown       = &apiError{Status: http.StatusServiceUnavailable, Code: "trace_unavailable", Message: "the access trail cannot be written, so the request is refused"}
)

func badRequest(field, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "invalid", Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorInfo classifies an error as the API answers it: the HTTP status, the code, the field at
// fault and the client-safe message. The web UI uses it to speak of refusals in the same terms.
func ErrorInfo(err error) (status int, code, field, message string) {
	ae := classify(err)
	return ae.Status, ae.Code, ae.Field, ae.Message
}

// classify maps an error to its API error; unknown errors become a 500 with a safe message.
func classify(err error) *apiError {
	var (
		ae  *apiError
		fe  *fault.Error
		inv *registry.InvalidError
		pe  *registry.PolicyError
		ie  *registry.ImportError
		ne  *lostperson.IneligibleError
	)
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &fe):
		return faultError(fe)
	case errors.Is(err, trace.ErrUnavailable):
		return errTraceDown
	case errors.As(err, &inv):
		return &apiError{Status: http.StatusBadRequest, Code: "invalid", Field: inv.Field, Message: inv.Message}
	case errors.As(err, &pe):
		d := pe.Decisions[0]
		return &apiError{Status: http.StatusUnprocessableEntity, Code: d.Code, Field: d.Field, Message: d.Reason,
			Extra: map[string]any{"rule": d.Rule, "policy_version": d.PolicyVersion, "decisions": pe.Decisions}}
	case errors.As(err, &ne):
		d := ne.Decisions[0]
		return &apiError{Status: http.StatusUnprocessableEntity, Code: d.Code, Field: d.Field, Message: d.Reason,
			Extra: map[string]any{"rule": d.Rule, "policy_version": d.PolicyVersion, "decisions": ne.Decisions,
				"reason_zh": ne.ReasonZH, "refer_to": ne.ReferTo, "refer_to_zh": ne.ReferToZH}}
	case errors.As(err, &ie):
		ae = &apiError{Status: http.StatusBadRequest, Code: "invalid_import", Message: ie.Error(),
			Extra: map[string]any{"rows": ie.Rows, "truncated": ie.Truncated}}
		if len(ie.Rows) > 0 {
			ae.Field = ie.Rows[0].Column
		}
		return ae
	case errors.Is(err, fault.ErrNotFound):
		return errNotFound
	case errors.Is(err, fault.ErrConflict):
		return &apiError{Status: http.StatusConflict, Code: "conflict", Message: "the change conflicts with the object's current state"}
	}
	return errInternal
}

// kindStatus is the HTTP status of each kind of failure the domains report.
var kindStatus = map[fault.Kind]int{
	fault.Invalid:         http.StatusBadRequest,
	fault.NotFound:        http.StatusNotFound,
	fault.Conflict:        http.StatusConflict,
	fault.Forbidden:       http.StatusForbidden,
	fault.TooLarge:        http.StatusRequestEntityTooLarge,
	fault.Unsupported:     http.StatusUnsupportedMediaType,
	fault.Throttled:       http.StatusTooManyRequests,
	fault.Unavailable:     http.StatusServiceUnavailable,
	fault.Unauthenticated: http.StatusUnauthorized,
	fault.Refused:         http.StatusUnprocessableEntity,
}

// faultError is the API's answer to a domain's typed failure.
func faultError(fe *fault.Error) *apiError {
	status, ok := kindStatus[fe.Kind]
	if !ok {
		return errInternal
	}
	ae := &apiError{Status: status, Code: fe.CodeOrKind(), Field: fe.Field, Message: fe.Message}
	if fe.Kind == fault.NotFound && ae.Message == "" {
		ae.Message = errNotFound.Message
	}
	if fe.RetryAfter > 0 {
		ae.Extra = map[string]any{"retry_after_s": int(math.Ceil(fe.RetryAfter.Seconds()))}
	}
	return ae
}

var errInternal = &apiError{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error; it has been logged"}

// writeError is the one place errors become HTTP responses: the client gets a safe message,
// the log gets the detail.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := classify(err)
	switch ae {
	case errTraceDown:
		s.log.Error("trail write failed; request refused", "path", r.URL.Path, "err", err)
	case errInternal:
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	body := map[string]any{"code": ae.Code, "message": ae.Message}
	if ae.Field != "" {
		body["field"] = ae.Field
	}
	for k, v := range ae.Extra {
		body[k] = v
	}
	if ae.Status == http.StatusTooManyRequests || ae.Status == http.StatusServiceUnavailable {
		if ra, ok := ae.Extra["retry_after_s"].(int); ok {
			w.Header().Set("Retry-After", strconv.Itoa(ra))
		}
	}
	writeJSON(w, ae.Status, map[string]any{"error": body})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

// maxBody bounds a JSON request; imports have their own, larger bound.
const maxBody = 1 << 20

// decodeJSON reads one JSON object into v, refusing unknown fields, trailing data and
// oversized bodies, and naming the field at fault.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeJSONUpTo(w, r, v, maxBody)
}

// decodeJSONUpTo is decodeJSON for bodies that may be larger (a photo in base64).
func decodeJSONUpTo(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return &apiError{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "send application/json"}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("", "the body must hold exactly one JSON object")
	}
	return nil
}

func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	var pe *time.ParseError
	switch {
	case errors.As(err, &se):
		return badRequest("", "malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return badRequest(te.Field, "must be a %s, not %s", jsonKind(te.Type.Kind().String()), te.Value)
	case errors.As(err, &mbe):
		return &apiError{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Message: fmt.Sprintf("the body is larger than %d bytes", mbe.Limit)}
	case errors.As(err, &pe):
		return badRequest("", "a time is not RFC 3339: %q", pe.Value)
	case errors.Is(err, io.EOF):
		return badRequest("", "the body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("", "the JSON ends too soon")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return badRequest(f, "unknown field %q", f)
	}
	return badRequest("", "malformed JSON: %v", err)
}

func jsonKind(k string) string {
	switch k {
	case "float64", "int", "int64":
		return "number"
	case "bool":
		return "boolean"
	case "ptr", "struct":
		return "value of another type"
	}
	return k
}
