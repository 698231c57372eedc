// Package trace is civicam's tamper-evident access trail (REG-5): every access and every change
// leaves an entry in an append-only log whose entries are the leaves of an RFC 6962 Merkle tree.
// The log signs checkpoints (tree size and root) in the C2SP signed-note format, serves inclusion
// and consistency proofs, and can recompute the whole trail from the database to name the first
// entry that was edited, removed, inserted or reordered.
//
// Appends are durable before they are acknowledged and are group-committed: concurrent Append
// calls share one transaction and one sync. An Append that cannot be written returns an error,
// and callers refuse the access they were tracing (fail closed).
//
// The package owns small interfaces (Store, Source) that the SQL store satisfies; it never imports
// the store.
package trace

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/transparency-dev/merkle/rfc6962"
)

// Action names what an entry records.
type Action string

// The actions the trail knows. Later features add theirs here so that the list stays the one
// place auditors look up what an action means.
const (
	ActionLogin               Action = "login"
	ActionLoginFailed         Action = "login_failed"
	ActionLogout              Action = "logout"
	ActionUserCreate          Action = "user_create"
	ActionUserUpdate          Action = "user_update"
	ActionOrganisationCreate  Action = "organisation_create"
	ActionOrganisationUpdate  Action = "organisation_update"
	ActionCameraCreate        Action = "camera_create"
	ActionCameraUpdate        Action = "camera_update"
	ActionCameraDecommission  Action = "camera_decommission"
	ActionCameraImport        Action = "camera_import"
	ActionPolicyChange        Action = "policy_change"
	ActionTraceRead           Action = "trace_read"
	ActionLiveView            Action = "live_view"
	ActionPlayback            Action = "playback"
	ActionExport              Action = "export"
	ActionSearch              Action = "search"
	ActionGrantCreate         Action = "grant_create"
	ActionGrantRevoke         Action = "grant_revoke"
	ActionApplicationDecision Action = "application_decision"
	ActionAccessDenied        Action = "access_denied"
	// Retention deleting footage past its retention, and legal holds that stop it.
	ActionRetentionDelete Action = "retention_delete"
	ActionHoldCreate      Action = "hold_create"
	ActionHoldRelease     Action = "hold_release"
	ActionGroupCreate     Action = "group_create"
	ActionGroupUpdate     Action = "group_update"
	ActionGroupDelete     Action = "group_delete"
	ActionDocumentUpload  Action = "document_upload"
	ActionApplicationRead Action = "application_read" // a reviewer opened an application
	ActionDocumentRead    Action = "document_read"    // a reviewer opened an applicant's document
	ActionRecordingsRead  Action = "recordings_read"  // when a camera recorded and when not, read
	// GB/T 28181 devices: a registration (or its refusal: a failed digest, a bad device id), an
	// unregistration, a device going online or offline, a catalog query asked for by a user, and
	// the adoption of a pending device into an organisation.
	ActionGBRegister    Action = "gb_register"
	ActionGBUnregister  Action = "gb_unregister"
	ActionGBDeviceState Action = "gb_device_state"
	ActionGBCatalog     Action = "gb_catalog"
	ActionGBAdopt       Action = "gb_adopt"
	// ActionGBDeviceAuth is setting how a device authenticates (its own password, or none).
	ActionGBDeviceAuth Action = "gb_device_auth"
	// Someone registered as an applicant (the code sent, or the username taken), or was refused
	// for registering too often from one address.
	ActionApplicantRegister Action = "applicant_register"
	// The policy pack a server started with, when it is not the one last traced: its name,
	// version and SHA-256 are in the entry's detail.
	ActionPackInForce Action = "pack_in_force"
	// A second user's approval of an export that the pack's two-person rule holds back, naming
	// the requester and the approver.
	ActionExportApprove Action = "export_approve"
	// A reviewer asked a private camera's owner for its footage in an application's window, and
	// the owner's organisation approved or declined it (REG-4).
	ActionFootageRequest         Action = "footage_request"
	ActionFootageRequestDecision Action = "footage_request_decision"
	// A reviewer drafted a result notice (or a correction of a sent one), a second reviewer of
	// the same organisation approved and sent it, and a reviewer recorded that an applicant's
	// document was shown in person instead of uploaded.
	ActionNoticeDraft   Action = "notice_draft"
	ActionNoticeApprove Action = "notice_approve"
	ActionDocumentShown Action = "document_shown"
	ActionContactRead   Action = "contact_read" // a reviewer read an applicant's contact

	// A camera's legal basis (one of the pack's) was proposed, approved or declined; approval is
	// by an admin of a public-security organisation other than the proposer's.
	ActionLegalBasisPropose Action = "legal_basis_propose"
	ActionLegalBasisApprove Action = "legal_basis_approve"
	ActionLegalBasisDecline Action = "legal_basis_decline"

	// A camera was checked for duplicate construction (REG-3), naming the overlaps found, and
	// the public security organ approved or declined building a duplicate, with what it saw.
	ActionDuplicateCheck       Action = "duplicate_check"
	ActionConstructionDecision Action = "construction_decision"
	// Places were added to the city's register, and someone read the key places' coverage
	// report (REG-1).
	ActionPlaceImport    Action = "place_import"
	ActionCoverageReport Action = "coverage_report"
	// Public consultation (REG-8): the police published a draft for comment, someone (anyone,
	// anonymous) submitted an opinion, the police answered one, and published the final version.
	ActionConsultationPublish Action = "consultation_publish"
	ActionConsultationOpinion Action = "consultation_opinion"
	ActionConsultationAnswer  Action = "consultation_answer"
	ActionConsultationFinal   Action = "consultation_final"
	// A camera's reminder sign record was changed (installed, checked, a photo), and someone
	// looked at a sign's photo (REG-7).
	ActionSignUpdate    Action = "sign_update"
	ActionSignPhotoRead Action = "sign_photo_read"
	// A maintenance work order was opened (by hand or from the camera's health) or done (REG-5).
	ActionMaintenanceOpen Action = "maintenance_open"
	ActionMaintenanceDone Action = "maintenance_done"

	// The public security organ recorded the filing of a completed (accepted) camera (Beijing's
	// rule, the pack's system_filing).
	ActionSystemFiling Action = "system_filing"
	// Hidden-camera inspections and the public's reports of suspected illegal cameras (REG-2):
	// every change, and every look at a plan's records, a report or a photo.
	ActionInspectionPlan    Action = "inspection_plan"
	ActionInspectionRecord  Action = "inspection_record"
	ActionInspectionRead    Action = "inspection_read"
	ActionCameraReport      Action = "camera_report"
	ActionCameraReportRead  Action = "camera_report_read"
	ActionCameraReportPhoto Action = "camera_report_photo"
	ActionCameraReportState Action = "camera_report_state"
	// A viewer took a still of a live view it holds (the live grid's snapshot): the picture's
	// size and SHA-256 are in the reason, the live session in the reference.
	ActionSnapshot Action = "snapshot"
)

// Actions lists every known action, for validation and for auditors' filter menus.
var Actions = []Action{
	ActionLogin, ActionLoginFailed, ActionLogout, ActionUserCreate, ActionUserUpdate,
	ActionOrganisationCreate, ActionOrganisationUpdate, ActionCameraCreate, ActionCameraUpdate,
	ActionCameraDecommission, ActionCameraImport, ActionPolicyChange, ActionTraceRead,
	ActionLiveView, ActionPlayback, ActionExport, ActionSearch, ActionGrantCreate,
	ActionGrantRevoke, ActionApplicationDecision, ActionAccessDenied,
	ActionRetentionDelete, ActionHoldCreate, ActionHoldRelease, ActionGroupCreate, ActionGroupUpdate, ActionGroupDelete,
	ActionDocumentUpload, ActionApplicationRead, ActionDocumentRead, ActionRecordingsRead,
	ActionGBRegister, ActionGBUnregister, ActionGBDeviceState, ActionGBCatalog, ActionGBAdopt,
	ActionGBDeviceAuth,
	ActionApplicantRegister, ActionPackInForce, ActionExportApprove, ActionFootageRequest,
	ActionFootageRequestDecision, ActionNoticeDraft, ActionNoticeApprove, ActionDocumentShown,
	ActionContactRead, ActionLegalBasisPropose, ActionLegalBasisApprove, ActionLegalBasisDecline,
	ActionDuplicateCheck, ActionConstructionDecision, ActionPlaceImport, ActionCoverageReport,
	ActionConsultationPublish, ActionConsultationOpinion, ActionConsultationAnswer, ActionConsultationFinal,
	ActionSignUpdate, ActionSignPhotoRead, ActionMaintenanceOpen, ActionMaintenanceDone,
	ActionSystemFiling,
	ActionInspectionPlan, ActionInspectionRecord, ActionInspectionRead, ActionCameraReport,
	ActionCameraReportRead, ActionCameraReportPhoto, ActionCameraReportState,
	ActionSnapshot,
}

// Outcome is whether the traced request was served.
type Outcome string

const (
	Allowed Outcome = "allowed"
	Denied  Outcome = "denied"
)

// Actor is who made the request, as the server authenticated it (all empty for an anonymous
// request, e.g. a failed login carries only the username tried and the client address).
type Actor struct {
	UserID         string `json:"user_id"`
	Username       string `json:"username"`
	Role           string `json:"role"`
	OrganisationID string `json:"organisation_id"`
	ClientAddr     string `json:"client_addr"`
}

// Entry is one event of the trail.
type Entry struct {
	// Seq is the entry's leaf index in the Merkle tree, assigned by Append.
	Seq int64 `json:"seq"`
	// Time is when the event happened, kept to the microsecond; Append fills it from its clock
	// when zero.
	Time   time.Time `json:"time"`
	Actor  Actor     `json:"actor"`
	Action Action    `json:"action"`
	// CameraIDs are the cameras the request touched, in the order the caller gave.
	CameraIDs []string `json:"camera_ids"`
	// From and To bound the footage asked for (playback, export, search); zero when not relevant.
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	// Reference is the application or case the access was made for.
	Reference string  `json:"reference"`
	Purpose   string  `json:"purpose"`
	Outcome   Outcome `json:"outcome"`
	Reason    string  `json:"reason"`
	// Detail holds small extra facts (a decision code, a field changed).
	Detail map[string]string `json:"detail,omitempty"`
}

// ErrInvalid marks an entry unfit to append: a mistake of the caller, not an outage of the
// trail, so it is not ErrUnavailable (what it traced is refused all the same).
var ErrInvalid = errors.New("invalid trace entry")

// Validate reports what makes e unfit to append; the error wraps ErrInvalid.
func (e Entry) Validate() error {
	if e.Action == "" {
		return fmt.Errorf("%w: no action", ErrInvalid)
	}
	if e.Outcome != Allowed && e.Outcome != Denied {
		return fmt.Errorf("%w: outcome %q is neither %q nor %q", ErrInvalid, e.Outcome, Allowed, Denied)
	}
	if !e.From.IsZero() && !e.To.IsZero() && e.To.Before(e.From) {
		return fmt.Errorf("%w: time range ends (%s) before it starts (%s)", ErrInvalid, e.To, e.From)
	}
	return nil
}

// Row is an entry as the database stores it: its canonical encoding, hashed verbatim into the
// leaf, and the hashes written beside it. The columns auditors filter on (time, actor, action,
// outcome) are generated by the database from Data, so no column can disagree with the leaf.
type Row struct {
	Seq int64
	// Data is the entry's encoding (see Entry.Encode); a row written before layout 2 holds its
	// layout-1 fields as a JSON object instead (see legacyFields).
	Data []byte
	// LeafHash is RFC 6962 HashLeaf of the entry's encoding.
	LeafHash []byte
	// Chain is ChainHash(the previous entry's Chain, LeafHash): a commitment to every leaf up
	// to this one that costs one hash per entry to check, so that Verify names the exact entry
	// whose hashes were rewritten. (A migrated layout-1 entry holds the Merkle tree root after
	// it instead, which layout 1 kept here; the first layout-2 entry chains from that root.)
	Chain []byte
	// Cameras are the entry's distinct camera ids, for the camera index. The log sets them on
	// append; rows read back leave them empty (the ids are in Data).
	Cameras []string
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// canonicalJSON is the one JSON form written for lists and maps: encoding/json's output is
// deterministic for these types (map keys sorted), so it is canonical.
func canonicalJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// []string and map[string]string always marshal.
		panic(fmt.Sprintf("trace: canonical json: %v", err))
	}
	return string(b)
}

// EncodingVersion is the layout Encode writes. A change of layout takes a new version so that
// old leaves still verify: layout 1 (a binary encoding of the columns, see legacyFields) is read
// and verified still.
const EncodingVersion = 2

// Encode appends the canonical encoding of e (layout 2) to dst: a JSON object with the keys, in
// this order, v (the layout), seq, camera_ids, at, user_id, username, role, organisation_id,
// client_addr, action, range_from, range_to, reference, purpose, outcome, reason, detail. Times
// are microseconds since the Unix epoch, 0 for none; camera ids keep the caller's order; detail's
// keys are sorted; strings are escaped only where JSON requires (invalid UTF-8 becomes U+FFFD).
// The leaf hash covers these bytes exactly, and the database reads the columns it indexes out of
// the same bytes. The version, sequence number and cameras come first so that Verify reads them
// without decoding the rest.
func (e Entry) Encode(dst []byte) []byte {
	dst = append(dst, `{"v":`...)
	dst = strconv.AppendInt(dst, EncodingVersion, 10)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendInt(dst, e.Seq, 10)
	dst = append(dst, `,"camera_ids":[`...)
	for i, id := range e.CameraIDs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, id)
	}
	dst = append(dst, `],"at":`...)
	dst = strconv.AppendInt(dst, micros(e.Time), 10)
	for _, f := range [...]struct{ key, val string }{
		{`,"user_id":`, e.Actor.UserID}, {`,"username":`, e.Actor.Username}, {`,"role":`, e.Actor.Role},
		{`,"organisation_id":`, e.Actor.OrganisationID}, {`,"client_addr":`, e.Actor.ClientAddr},
		{`,"action":`, string(e.Action)},
	} {
		dst = append(dst, f.key...)
		dst = appendJSONString(dst, f.val)
	}
	dst = append(dst, `,"range_from":`...)
	dst = strconv.AppendInt(dst, micros(e.From), 10)
	dst = append(dst, `,"range_to":`...)
	dst = strconv.AppendInt(dst, micros(e.To), 10)
	for _, f := range [...]struct{ key, val string }{
		{`,"reference":`, e.Reference}, {`,"purpose":`, e.Purpose}, {`,"outcome":`, string(e.Outcome)},
		{`,"reason":`, e.Reason},
	} {
		dst = append(dst, f.key...)
		dst = appendJSONString(dst, f.val)
	}
	dst = append(dst, `,"detail":{`...)
	keys := slices.Sorted(maps.Keys(e.Detail))
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, k)
		dst = append(dst, ':')
		dst = appendJSONString(dst, e.Detail[k])
	}
	return append(dst, "}}"...)
}

// appendJSONString appends s as a JSON string: quote, backslash and control characters escaped,
// invalid UTF-8 replaced by U+FFFD, everything else as it is.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// wireEntry is layout 2 as encoding/json reads it, for decoding.
type wireEntry struct {
	V              int               `json:"v"`
	Seq            int64             `json:"seq"`
	CameraIDs      []string          `json:"camera_ids"`
	At             int64             `json:"at"`
	UserID         string            `json:"user_id"`
	Username       string            `json:"username"`
	Role           string            `json:"role"`
	OrganisationID string            `json:"organisation_id"`
	ClientAddr     string            `json:"client_addr"`
	Action         string            `json:"action"`
	RangeFrom      int64             `json:"range_from"`
	RangeTo        int64             `json:"range_to"`
	Reference      string            `json:"reference"`
	Purpose        string            `json:"purpose"`
	Outcome        string            `json:"outcome"`
	Reason         string            `json:"reason"`
	Detail         map[string]string `json:"detail"`
}

// Entry decodes a stored row.
func (r *Row) Entry() (Entry, error) {
	if isLegacy(r.Data) {
		f, err := decodeLegacy(r.Data)
		if err != nil {
			return Entry{}, fmt.Errorf("trace entry %d: %w", r.Seq, err)
		}
		return f.entry(r.Seq)
	}
	var w wireEntry
	if err := json.Unmarshal(r.Data, &w); err != nil {
		return Entry{}, fmt.Errorf("trace entry %d: %w", r.Seq, err)
	}
	if w.V != EncodingVersion {
		return Entry{}, fmt.Errorf("trace entry %d: unknown layout %d", r.Seq, w.V)
	}
	e := Entry{
		Seq: r.Seq, Time: fromMicros(w.At),
		Actor: Actor{UserID: w.UserID, Username: w.Username, Role: w.Role,
			OrganisationID: w.OrganisationID, ClientAddr: w.ClientAddr},
		Action: Action(w.Action), CameraIDs: w.CameraIDs, From: fromMicros(w.RangeFrom), To: fromMicros(w.RangeTo),
		Reference: w.Reference, Purpose: w.Purpose, Outcome: Outcome(w.Outcome), Reason: w.Reason,
	}
	if e.CameraIDs == nil {
		e.CameraIDs = []string{}
	}
	if len(w.Detail) > 0 {
		e.Detail = w.Detail
	}
	return e, nil
}

// NewRow encodes e (its Seq set) as the row to append, with its leaf hash; the chain value is
// the appender's to set.
func NewRow(e Entry) Row {
	r := Row{Seq: e.Seq, Data: e.Encode(make([]byte, 0, 384))}
	r.LeafHash = hasher.HashLeaf(r.Data)
	// The index lists the ids as the encoding spells them (invalid UTF-8 replaced), which is
	// what Verify reads back.
	_, ids, _ := entryHead(r.Data)
	for i, id := range ids {
		if !slices.Contains(ids[:i], id) {
			r.Cameras = append(r.Cameras, id)
		}
	}
	return r
}

var hasher = rfc6962.DefaultHasher

// LeafHash is the Merkle leaf hash of a row: RFC 6962 HashLeaf of its encoding (for a legacy
// row, of its fields' layout-1 encoding).
func LeafHash(r *Row) ([]byte, error) {
	var buf [512]byte
	h, _, err := leafHash(r.Data, buf[:0])
	if err != nil {
		return nil, err
	}
	return h[:], nil
}

// leafHash is LeafHash with a reusable buffer: SHA-256 of the leaf prefix and the encoding in one
// call, without the allocations of a hash.Hash.
func leafHash(data, buf []byte) ([sha256.Size]byte, []byte, error) {
	buf = append(buf[:0], rfc6962.RFC6962LeafHashPrefix)
	if isLegacy(data) {
		f, err := decodeLegacy(data)
		if err != nil {
			return [sha256.Size]byte{}, buf, err
		}
		buf = f.encode(buf)
	} else {
		buf = append(buf, data...)
	}
	return sha256.Sum256(buf), buf, nil
}

// chainPrefix separates chain hashes from RFC 6962's leaf (0x00) and node (0x01) hashes.
const chainPrefix = 0x02

// ChainHash is the chain value of an entry: SHA-256(0x02 || prev || leaf), prev being the
// previous entry's chain value; before entry 0 it is nil, which hashes as 32 zero bytes.
func ChainHash(prev, leaf []byte) []byte {
	h := chainHash(prev, leaf)
	return h[:]
}

func chainHash(prev, leaf []byte) [sha256.Size]byte {
	var b [1 + 2*sha256.Size]byte
	b[0] = chainPrefix
	copy(b[1:], prev)
	copy(b[1+sha256.Size:], leaf)
	return sha256.Sum256(b[:])
}

// hashChildren is RFC 6962's interior node hash, SHA-256(0x01 || left || right), for the 32-byte
// hashes of this tree, computed in one call on a stack buffer: about three times faster than the
// generic hasher, which matters to Verify's root after every entry.
func hashChildren(l, r []byte) []byte {
	var b [1 + 2*sha256.Size]byte
	b[0] = rfc6962.RFC6962NodeHashPrefix
	copy(b[1:], l)
	copy(b[1+sha256.Size:], r)
	h := sha256.Sum256(b[:])
	return h[:]
}

func equalHash(a, b []byte) bool { return len(a) == len(b) && bytes.Equal(a, b) }
