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
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

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
)

// Actions lists every known action, for validation and for auditors' filter menus.
var Actions = []Action{
	ActionLogin, ActionLoginFailed, ActionLogout, ActionUserCreate, ActionUserUpdate,
	ActionOrganisationCreate, ActionOrganisationUpdate, ActionCameraCreate, ActionCameraUpdate,
	ActionCameraDecommission, ActionCameraImport, ActionPolicyChange, ActionTraceRead,
	ActionLiveView, ActionPlayback, ActionExport, ActionSearch, ActionGrantCreate,
	ActionGrantRevoke, ActionApplicationDecision, ActionAccessDenied,
	ActionRetentionDelete, ActionHoldCreate, ActionHoldRelease,
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

// Validate reports what makes e unfit to append.
func (e Entry) Validate() error {
	if e.Action == "" {
		return fmt.Errorf("trace entry: no action")
	}
	if e.Outcome != Allowed && e.Outcome != Denied {
		return fmt.Errorf("trace entry: outcome %q is neither %q nor %q", e.Outcome, Allowed, Denied)
	}
	if !e.From.IsZero() && !e.To.IsZero() && e.To.Before(e.From) {
		return fmt.Errorf("trace entry: time range ends (%s) before it starts (%s)", e.To, e.From)
	}
	return nil
}

// Row is an entry as the database stores it: every column verbatim, plus the hashes written
// beside it. The leaf is computed from a Row, so that Verify hashes exactly the bytes in the
// database and an edit of any column, even one that a decoder would normalise away, shows.
type Row struct {
	Seq            int64
	At             int64 // microseconds since the Unix epoch
	UserID         string
	Username       string
	Role           string
	OrganisationID string
	ClientAddr     string
	Action         string
	CameraIDs      string // canonical JSON array of strings
	RangeFrom      int64  // microseconds, 0 = none
	RangeTo        int64  // microseconds, 0 = none
	Reference      string
	Purpose        string
	Outcome        string
	Reason         string
	Detail         string // canonical JSON object of strings
	// LeafHash is RFC 6962 HashLeaf(Encode(row)).
	LeafHash []byte
	// Root is the Merkle tree root of the trail of Seq+1 entries, i.e. just after this one.
	Root []byte
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

// ToRow converts an entry to its stored form (without hashes).
func (e Entry) ToRow() Row {
	ids := e.CameraIDs
	if ids == nil {
		ids = []string{}
	}
	detail := e.Detail
	if detail == nil {
		detail = map[string]string{}
	}
	return Row{
		Seq: e.Seq, At: micros(e.Time),
		UserID: e.Actor.UserID, Username: e.Actor.Username, Role: e.Actor.Role,
		OrganisationID: e.Actor.OrganisationID, ClientAddr: e.Actor.ClientAddr,
		Action: string(e.Action), CameraIDs: canonicalJSON(ids),
		RangeFrom: micros(e.From), RangeTo: micros(e.To),
		Reference: e.Reference, Purpose: e.Purpose, Outcome: string(e.Outcome), Reason: e.Reason,
		Detail: canonicalJSON(detail),
	}
}

// Entry decodes a stored row.
func (r *Row) Entry() (Entry, error) {
	e := Entry{
		Seq: r.Seq, Time: fromMicros(r.At),
		Actor: Actor{UserID: r.UserID, Username: r.Username, Role: r.Role,
			OrganisationID: r.OrganisationID, ClientAddr: r.ClientAddr},
		Action: Action(r.Action), From: fromMicros(r.RangeFrom), To: fromMicros(r.RangeTo),
		Reference: r.Reference, Purpose: r.Purpose, Outcome: Outcome(r.Outcome), Reason: r.Reason,
	}
	if err := json.Unmarshal([]byte(r.CameraIDs), &e.CameraIDs); err != nil {
		return Entry{}, fmt.Errorf("trace entry %d: camera ids: %w", r.Seq, err)
	}
	if r.Detail != "" && r.Detail != "{}" {
		if err := json.Unmarshal([]byte(r.Detail), &e.Detail); err != nil {
			return Entry{}, fmt.Errorf("trace entry %d: detail: %w", r.Seq, err)
		}
	}
	return e, nil
}

// EncodingVersion is the first byte of every encoded entry; a future change of layout takes a new
// version so that old leaves still verify.
const EncodingVersion = 1

// Encode appends the canonical encoding of r to dst and returns it. Layout (version 1): the
// version byte, then in column order: seq and at as 8-byte big-endian integers; user id,
// username, role, organisation id, client address, action, camera ids (canonical JSON) as
// uvarint-length-prefixed bytes; range from and to as 8-byte big-endian; reference, purpose,
// outcome, reason, detail (canonical JSON) length-prefixed. Every field has a fixed width or a
// length prefix, so no two different rows encode alike. The hashes are not part of it.
func (r *Row) Encode(dst []byte) []byte {
	dst = append(dst, EncodingVersion)
	dst = binary.BigEndian.AppendUint64(dst, uint64(r.Seq))
	dst = binary.BigEndian.AppendUint64(dst, uint64(r.At))
	for _, s := range [...]string{r.UserID, r.Username, r.Role, r.OrganisationID, r.ClientAddr, r.Action, r.CameraIDs} {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	dst = binary.BigEndian.AppendUint64(dst, uint64(r.RangeFrom))
	dst = binary.BigEndian.AppendUint64(dst, uint64(r.RangeTo))
	for _, s := range [...]string{r.Reference, r.Purpose, r.Outcome, r.Reason, r.Detail} {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	return dst
}

var hasher = rfc6962.DefaultHasher

// LeafHash is the Merkle leaf hash of a row: RFC 6962 HashLeaf of its encoding.
func LeafHash(r *Row) []byte {
	var buf [512]byte
	h, _ := leafHash(r, buf[:0])
	return h
}

// leafHash is LeafHash with a reusable buffer: SHA-256 of the leaf prefix and the encoding in one
// call, without the allocations of a hash.Hash.
func leafHash(r *Row, buf []byte) ([]byte, []byte) {
	buf = r.Encode(append(buf[:0], rfc6962.RFC6962LeafHashPrefix))
	h := sha256.Sum256(buf)
	return h[:], buf
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
