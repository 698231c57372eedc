package trace

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Layout 1 stored an entry as sixteen columns and hashed a binary encoding of them. Migration
// 0007 moved those rows into layout 2's single column as a JSON object of the same fields
// (legacyPrefix, then the keys of legacyKeys); their leaves are still the layout-1 hashes, so
// verifying such a row decodes its fields and encodes them the old way. Decoding is strict
// (every key exactly once, spelled plainly, nothing else) so that the fields the database
// indexes out of the JSON are the fields the leaf vouches for.

// legacyPrefix starts every migrated row; layout 2 starts with `{"v":2,`.
const legacyPrefix = `{"v":1,`

func isLegacy(data []byte) bool { return bytes.HasPrefix(data, []byte(legacyPrefix)) }

// legacyFields is a layout-1 row: its columns verbatim.
type legacyFields struct {
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
}

// keys are the keys of a migrated row besides "v", each with where its value goes.
func (f *legacyFields) keys() map[string]any {
	return map[string]any{
		"seq": &f.Seq, "at": &f.At, "user_id": &f.UserID, "username": &f.Username, "role": &f.Role,
		"organisation_id": &f.OrganisationID, "client_addr": &f.ClientAddr, "action": &f.Action,
		"camera_ids": &f.CameraIDs, "range_from": &f.RangeFrom, "range_to": &f.RangeTo,
		"reference": &f.Reference, "purpose": &f.Purpose, "outcome": &f.Outcome, "reason": &f.Reason,
		"detail": &f.Detail,
	}
}

// encode appends layout 1: the version byte 1, then in column order seq and at as 8-byte
// big-endian integers; user id, username, role, organisation id, client address, action, camera
// ids as uvarint-length-prefixed bytes; range from and to as 8-byte big-endian; reference,
// purpose, outcome, reason, detail length-prefixed.
func (f *legacyFields) encode(dst []byte) []byte {
	dst = append(dst, 1)
	dst = binary.BigEndian.AppendUint64(dst, uint64(f.Seq))
	dst = binary.BigEndian.AppendUint64(dst, uint64(f.At))
	for _, s := range [...]string{f.UserID, f.Username, f.Role, f.OrganisationID, f.ClientAddr, f.Action, f.CameraIDs} {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	dst = binary.BigEndian.AppendUint64(dst, uint64(f.RangeFrom))
	dst = binary.BigEndian.AppendUint64(dst, uint64(f.RangeTo))
	for _, s := range [...]string{f.Reference, f.Purpose, f.Outcome, f.Reason, f.Detail} {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	return dst
}

// decodeLegacy reads a migrated row strictly.
func decodeLegacy(data []byte) (legacyFields, error) {
	var f legacyFields
	dest := f.keys()
	var version int
	dest["v"] = &version
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return f, fmt.Errorf("legacy entry: not a JSON object")
	}
	for dec.More() {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return f, fmt.Errorf("legacy entry: %w", err)
		}
		key, _ := tok.(string)
		raw := bytes.TrimLeft(data[start:dec.InputOffset()], " \t\r\n,")
		if string(raw) != `"`+key+`"` {
			return f, fmt.Errorf("legacy entry: key %s is not spelled plainly", raw)
		}
		d, ok := dest[key]
		if !ok {
			return f, fmt.Errorf("legacy entry: unknown or repeated key %q", key)
		}
		delete(dest, key)
		// null would read as the zero value here and as NULL in the database's columns.
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return f, fmt.Errorf("legacy entry: %s: %w", key, err)
		}
		if string(val) == "null" {
			return f, fmt.Errorf("legacy entry: %s is null", key)
		}
		if err := json.Unmarshal(val, d); err != nil {
			return f, fmt.Errorf("legacy entry: %s: %w", key, err)
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return f, fmt.Errorf("legacy entry: object not closed")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return f, fmt.Errorf("legacy entry: data after the object")
	}
	if len(dest) > 0 {
		return f, fmt.Errorf("legacy entry: %d keys missing", len(dest))
	}
	if version != 1 {
		return f, fmt.Errorf("legacy entry: layout %d", version)
	}
	return f, nil
}

// entry converts the fields to an Entry.
func (f *legacyFields) entry(seq int64) (Entry, error) {
	e := Entry{
		Seq: seq, Time: fromMicros(f.At),
		Actor: Actor{UserID: f.UserID, Username: f.Username, Role: f.Role,
			OrganisationID: f.OrganisationID, ClientAddr: f.ClientAddr},
		Action: Action(f.Action), From: fromMicros(f.RangeFrom), To: fromMicros(f.RangeTo),
		Reference: f.Reference, Purpose: f.Purpose, Outcome: Outcome(f.Outcome), Reason: f.Reason,
	}
	if err := json.Unmarshal([]byte(f.CameraIDs), &e.CameraIDs); err != nil {
		return Entry{}, fmt.Errorf("trace entry %d: camera ids: %w", seq, err)
	}
	if f.Detail != "" && f.Detail != "{}" {
		if err := json.Unmarshal([]byte(f.Detail), &e.Detail); err != nil {
			return Entry{}, fmt.Errorf("trace entry %d: detail: %w", seq, err)
		}
	}
	return e, nil
}
