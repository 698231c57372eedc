package footage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/export"
	"civicam/internal/fault"
	"civicam/internal/policy"
	"civicam/internal/registry"
	"civicam/internal/trace"
)

// Export is a made export: its manifest and the trail entry that recorded it.
type Export struct {
	ID       string
	TraceSeq int64
	Manifest *export.Manifest
}

// Export makes an export of a camera's recordings (see package export) for u: the look is
// decided, traced before anything is written, and the trail entry's sequence number goes into
// the signed manifest. Under the pack's two-person rule it files nothing and answers
// ErrApprovalRequired: that workflow is ExportOrRequest's.
func (s *Service) Export(ctx context.Context, u *auth.User, req Request) (*Export, error) {
	if s.options().TwoPersonExport {
		return nil, ErrApprovalRequired
	}
	e, _, err := s.ExportOrRequest(ctx, u, req)
	return e, err
}

// ErrApprovalRequired answers Export when the pack's two-person rule holds exports back; the
// faces call ExportOrRequest, which files the request instead.
var ErrApprovalRequired = &fault.Error{Kind: fault.Conflict, Code: "approval_required",
	Message: "exports need a second user's approval under the policy pack"}

// ExportOrRequest makes an export, or, under the pack's two_person_export option, records the
// request for a second user of u's organisation to approve (ApproveExport) and returns it as
// Pending. Either way the look is decided for u and traced before anything is written.
func (s *Service) ExportOrRequest(ctx context.Context, u *auth.User, req Request) (*Export, *Pending, error) {
	if err := s.checkRecipient(&req); err != nil {
		s.Malformed(ctx, access.Export, req, err)
		return nil, nil, err
	}
	if s.options().TwoPersonExport {
		l, err := s.Decide(ctx, u, access.Export, req)
		if err != nil {
			return nil, nil, err
		}
		p, err := s.requestApproval(ctx, u, l)
		return nil, p, err
	}
	e, err := s.makeExport(ctx, u, req, registry.NewID(), nil)
	return e, nil, err
}

// makeExport decides, traces and writes an export of id for u; approver is the second person
// who approved it, when the two-person rule asked for one.
func (s *Service) makeExport(ctx context.Context, u *auth.User, req Request, id string, approver *export.Exporter) (*Export, error) {
	l, err := s.Decide(ctx, u, access.Export, req)
	if err != nil {
		return nil, err
	}
	plan, err := s.Plan(ctx, l)
	if err != nil {
		return nil, err
	}
	defer plan.Close()
	if !s.signing {
		return nil, ErrNoExportKey
	}
	reason := "export " + id
	if l.ApplicationID != "" {
		reason += " under application " + l.ApplicationID
	}
	if approver != nil {
		reason += " for " + u.Username + " (" + u.ID + "), approved by " + approver.Username + " (" + approver.UserID + ")"
	}
	purpose := l.Purpose
	if l.Recipient != nil {
		// The purpose is what the owners' view of their cameras' uses shows of an export, so
		// where the copy went goes with it.
		purpose += "; copy to " + l.Recipient.String()
		reason += "; copy to " + l.Recipient.String()
	}
	if err := s.d.Tracer.Record(ctx, trace.Record{Action: trace.ActionExport, CameraIDs: []string{l.Camera.ID},
		From: l.Start, To: l.End, Reference: l.CaseRef, Purpose: purpose, Outcome: trace.Allowed, Reason: l.traceReason(reason)}); err != nil {
		return nil, err
	}
	seq := s.traceSeqOf(ctx, l.Camera.ID, l.traceReason(reason))
	m, err := s.exports.Create(ctx, plan, export.Manifest{ID: id, CameraID: l.Camera.ID, Camera: l.Camera.Name,
		Exporter:   export.Exporter{UserID: u.ID, Username: u.Username, Role: string(u.Role), OrganisationID: u.OrganisationID},
		ApprovedBy: approver, Purpose: l.Purpose, CaseRef: l.CaseRef, ApplicationID: l.ApplicationID, Recipient: l.Recipient,
		CreatedAt: s.d.Now().UTC(), TraceSeq: seq})
	if err != nil {
		return nil, err
	}
	return &Export{ID: id, TraceSeq: seq, Manifest: m}, nil
}

// checkRecipient validates where an export's copy goes: required, with its organisation and
// person, under the pack's export_recipients option (its case defaults to the export's), and
// checked the same way when given without it.
func (s *Service) checkRecipient(req *Request) error {
	r := req.Recipient
	if r != nil {
		r.Organisation, r.Person, r.Case = strings.TrimSpace(r.Organisation), strings.TrimSpace(r.Person), strings.TrimSpace(r.Case)
		if *r == (export.Recipient{}) {
			req.Recipient, r = nil, nil
		}
	}
	if r == nil {
		if s.options().ExportRecipients {
			return fault.InvalidField("recipient", "name where the copy goes: the organisation, the person and the case")
		}
		return nil
	}
	if r.Case == "" {
		r.Case = strings.TrimSpace(req.CaseRef)
	}
	for _, f := range []struct{ name, v string }{{"recipient.organisation", r.Organisation}, {"recipient.person", r.Person}, {"recipient.case", r.Case}} {
		switch {
		case f.v == "":
			return fault.InvalidField(f.name, "required")
		case len(f.v) > 200:
			return fault.InvalidField(f.name, "at most 200 bytes")
		}
	}
	return nil
}

// options are the pack's optional rules in force.
func (s *Service) options() policy.Options {
	if s.d.Options == nil {
		return policy.Options{}
	}
	return s.d.Options()
}

// traceSeqOf finds the sequence number of the export entry just recorded, by its reason (which
// names the new export's id, so no other entry matches). -1 when the trail cannot be read.
func (s *Service) traceSeqOf(ctx context.Context, cameraID, reason string) int64 {
	if s.d.Trail == nil {
		return -1
	}
	es, _, err := s.d.Trail.Query(ctx, trace.Filter{CameraID: cameraID, Action: trace.ActionExport, Limit: 50})
	if err != nil {
		s.d.Logger.Error("find export trail entry", "err", err)
		return -1
	}
	for _, e := range es {
		if e.Reason == reason {
			return e.Seq
		}
	}
	return -1
}

// OpenExport opens an export's zip for u to download, traced as a download. Only its exporter
// and admins may, and only while they may still see that footage: the footage decision is
// asked again for u as the login is now (role, organisation, grants in force, the application
// it was exported under) over the export's camera and range. Anyone else is answered as if
// there were no such export, and the refusal is traced. The caller closes the file.
func (s *Service) OpenExport(ctx context.Context, u *auth.User, id string) (*export.Meta, *os.File, error) {
	meta, f, err := s.exports.Open(id)
	if errors.Is(err, export.ErrNotFound) {
		return nil, nil, fmt.Errorf("export %q: %w", id, fault.ErrNotFound)
	}
	if err != nil {
		return nil, nil, err
	}
	what := "download of export " + id
	rec := trace.Record{Action: trace.ActionExport, CameraIDs: []string{meta.CameraID}, From: meta.Requested.Start,
		To: meta.Requested.End, Reference: id, Purpose: what, Outcome: trace.Allowed, Reason: what}
	if u.Role != auth.RoleAdmin && u.ID != meta.Exporter.UserID {
		f.Close()
		rec.Outcome, rec.Reason = trace.Denied, what+" by someone other than its exporter"
		if err := s.d.Tracer.Record(ctx, rec); err != nil {
			s.d.Logger.Error("trace export download denial", "err", err)
		}
		return nil, nil, ErrHidden
	}
	l, err := s.Decide(ctx, u, access.Export, Request{CameraID: meta.CameraID, Start: meta.Requested.Start,
		End: meta.Requested.End, Purpose: what, CaseRef: meta.CaseRef, ApplicationID: meta.ApplicationID})
	if err != nil {
		f.Close()
		return nil, nil, s.downloadRefused(ctx, rec, err)
	}
	rec.Reason = l.traceReason(what)
	if err := s.d.Tracer.Record(ctx, rec); err != nil {
		f.Close()
		return nil, nil, err
	}
	return meta, f, nil
}

// downloadRefused answers a download the footage decision refused: whatever it says (another
// organisation's camera, a role that never sees footage, a grant gone), the export is hidden,
// for naming why would tell the caller of footage they may no longer know of. The decision has
// traced its own refusals; a camera gone from the registry is traced here.
func (s *Service) downloadRefused(ctx context.Context, rec trace.Record, err error) error {
	fe, ok := fault.As(err)
	switch {
	case ok && fe.Traced && (fe.Kind == fault.Forbidden || fe.Kind == fault.NotFound):
		return ErrHidden
	case errors.Is(err, fault.ErrNotFound):
		rec.Outcome, rec.Reason = trace.Denied, rec.Reason+": the camera is no longer in the registry"
		if terr := s.d.Tracer.Record(ctx, rec); terr != nil {
			s.d.Logger.Error("trace export download denial", "err", terr)
		}
		return ErrHidden
	}
	return err
}

// Exports lists the exports u may download again, newest first: their own, or everyone's for an
// admin (as OpenExport lets them). A list of exports shows no footage, so it is not traced; each
// download is, with the footage decision asked again.
func (s *Service) Exports(ctx context.Context, u *auth.User) ([]export.Meta, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	exporter := u.ID
	if u.Role == auth.RoleAdmin {
		exporter = ""
	}
	return s.exports.List(exporter)
}

// Verified is what checking an export against the platform's key found.
type Verified struct {
	// Manifest is the export's manifest when it could be read (also when it does not verify).
	Manifest *export.Manifest
	// Problems is everything wrong; none when the export verifies.
	Problems export.Problems
}

// Bounds on checking uploaded exports: each is spooled to a temporary file, as the check reads
// the zip's directory at its end, so their size and number at once bound the disk they take.
const (
	MaxVerifyBytes  = 4 << 30
	maxVerifyAtOnce = 2
)

// VerifyExport checks an export zip someone holds, read from body (at most MaxVerifyBytes),
// against this platform's verifier key: a zip signed by, or carrying, a key other than the
// platform's does not verify. It reads no recording or record of the platform, so it is not
// traced.
func (s *Service) VerifyExport(ctx context.Context, body io.Reader) (*Verified, error) {
	if !s.signing {
		return nil, ErrNoExportKey
	}
	select {
	case s.verifying <- struct{}{}:
		defer func() { <-s.verifying }()
	default:
		return nil, &fault.Error{Kind: fault.Throttled, Code: "busy", RetryAfter: 10 * time.Second,
			Message: "other exports are being checked; try again shortly"}
	}
	if err := os.MkdirAll(s.exportDir, 0o750); err != nil {
		return nil, fmt.Errorf("verify export: %w", err)
	}
	f, err := os.CreateTemp(s.exportDir, ".verify-*.zip")
	if err != nil {
		return nil, fmt.Errorf("verify export: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	n, err := io.Copy(f, io.LimitReader(body, MaxVerifyBytes+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("verify export: read the upload: %w", err)
	case n > MaxVerifyBytes:
		return nil, &fault.Error{Kind: fault.TooLarge, Code: "too_large", Message: "the file is larger than an export can be"}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m, err := export.Verify(f, n, s.d.Key.VerifierKey())
	var probs export.Problems
	switch {
	case errors.As(err, &probs):
		return &Verified{Manifest: m, Problems: probs}, nil
	case err != nil:
		return nil, err
	}
	return &Verified{Manifest: m, Problems: export.Problems{}}, nil
}
