package httpapi

import (
	"net/http"
	"reflect"

	"civicam/internal/accounts"
	"civicam/internal/auth"
	"civicam/internal/footage"
	"civicam/internal/gb28181"
	"civicam/internal/lostperson"
	"civicam/internal/registry"
	"civicam/internal/retention"
	"civicam/internal/sharing"
	"civicam/internal/timespan"
	"civicam/internal/trace"
)

// ops says, for every route by "METHOD pattern", what it takes and answers. Schemas come from
// the Go types the handlers decode and encode (out: as written; in: as read); the few answers
// built as maps in their handlers are spelt out here, and TestRoutesByRole checks every real
// answer against them.
func (s *Server) ops(c *schemas) map[string]op {
	out := func(v any) schema { return c.of(reflect.TypeOf(v), true) }
	in := func(v any) schema { return c.of(reflect.TypeOf(v), false) }
	camera := out(registry.Camera{})
	user := out(auth.User{})
	ranges := list(out(timespan.Range{}))
	limit := func(def, max string) param {
		return q("limit", "How many to answer at most (default "+def+", at most "+max+").", integer)
	}
	since := q("start", "The start of the window (RFC 3339).", dateTime)
	until := q("end", "The end of the window (RFC 3339).", dateTime)
	purpose := q("purpose", "Why the footage is looked at; the trail keeps it.", str)
	appID := q("application_id", "The lost-person application the look is made for, for a reviewer.", str)
	csvAlso := answer{Status: http.StatusOK, ContentType: "text/csv", Description: "The same as CSV, with ?format=csv."}
	format := q("format", "json (default) or csv.", schema{"type": "string", "enum": []any{"json", "csv"}})
	cursor := q("cursor", "The next page: next_cursor of the previous answer (opaque).", str)
	counts := map[string]schema{"total": integer, "cameras": integer,
		"by_code":         schema{"type": []any{"object", "null"}, "additionalProperties": integer},
		"by_organisation": schema{"type": []any{"object", "null"}, "additionalProperties": integer}, "policy_version": str}
	sdp := "application/sdp"

	return map[string]op{
		"POST /api/v1/sessions": {Summary: "Log in: exchange a username and password for a bearer token",
			Body: in(loginRequest{}), Status: http.StatusCreated,
			Result: object(map[string]schema{"token": str, "expires_at": dateTime, "user": user})},
		"DELETE /api/v1/sessions/current": {Summary: "Log out: end the session of the token that calls", Status: http.StatusNoContent},
		"GET /api/v1/me":                  {Summary: "The caller's own account", Status: http.StatusOK, Result: user},
		"GET /api/v1/policy": {Summary: "The policy pack in force: categories, rules and limits", Status: http.StatusOK,
			Result: object(map[string]schema{"version": str, "digest": str, "retention_floor_days": integer,
				"maintenance_interval_days": integer, "signs_required": boolean,
				"regulation": object(map[string]schema{"name": str, "name_zh": str, "jurisdiction": str, "in_force": str}),
				"place_categories": schema{"type": []any{"array", "null"}, "items": object(map[string]schema{
					"id": str, "kind": str, "label": str, "label_zh": str, "rule": str})},
				"rules": schema{"type": []any{"array", "null"}, "items": object(map[string]schema{
					"id": str, "requirement": str, "title": str, "text": str, "reason": str}, "requirement")}})},
		"GET /api/v1/openapi.json": {Summary: "This API document (OpenAPI 3.1)", Status: http.StatusOK, Result: schema{"type": "object"}},

		"POST /api/v1/organisations": {Summary: "Register an organisation", Body: in(organisationRequest{}),
			Status: http.StatusCreated, Result: out(registry.Organisation{})},
		"GET /api/v1/organisations": {Summary: "The organisations the caller may see", Status: http.StatusOK,
			Result: object(map[string]schema{"organisations": list(out(registry.Organisation{}))})},
		"GET /api/v1/organisations/{id}": {Summary: "One organisation", Status: http.StatusOK, Result: out(registry.Organisation{})},

		"POST /api/v1/users": {Summary: "Create a staff account", Body: in(accounts.NewUser{}), Status: http.StatusCreated, Result: user},
		"GET /api/v1/users": {Summary: "The staff accounts", Query: []param{q("organisation_id", "Only this organisation's.", str)},
			Status: http.StatusOK, Result: object(map[string]schema{"users": list(user)})},
		"PATCH /api/v1/users/{id}": {Summary: "Change a staff account's role, organisation, password or state",
			Body: in(accounts.Patch{}), Status: http.StatusOK, Result: user},

		"POST /api/v1/cameras": {Summary: "Register a camera", Body: in(registry.CameraInput{}), Status: http.StatusCreated, Result: camera},
		"GET /api/v1/cameras": {Summary: "The cameras in the caller's scope: all, near a point, or in a box",
			Query: []param{
				q("near", "LAT,LON: cameras near this point, nearest first, each with distance_m.", str),
				q("radius_m", "With near: how far, in metres (default 500).", number),
				q("bbox", "MINLAT,MINLON,MAXLAT,MAXLON: cameras in this box.", str),
				q("organisation_id", "Only this organisation's.", str),
				q("status", "Only cameras in this state.", str),
				q("place_category", "Only cameras at this kind of place.", str),
				q("after", "The next page: the `next` of the previous answer.", str),
				cursor, limit("1000", "10000")},
			Status: http.StatusOK, Result: object(map[string]schema{"cameras": list(camera), "next": str, "next_cursor": str}, "next", "next_cursor")},
		"POST /api/v1/cameras/import": {Summary: "Register cameras from a CSV file: all its rows or none",
			ContentType: "text/csv", Status: http.StatusCreated,
			Result: object(map[string]schema{"imported": integer, "ids": list(str)})},
		"GET /api/v1/cameras/{id}":    {Summary: "One camera", Status: http.StatusOK, Result: camera},
		"PATCH /api/v1/cameras/{id}":  {Summary: "Change a camera; fields left out stay as they are", Body: in(registry.CameraInput{}), Status: http.StatusOK, Result: camera},
		"DELETE /api/v1/cameras/{id}": {Summary: "Decommission a camera: its record, recordings and trail outlive it", Status: http.StatusOK, Result: camera},
		"POST /api/v1/cameras/{id}/legal-basis": {Summary: "Propose one of the pack's legal bases for a camera, with its document; pending a second organisation's approval",
			Body: in(registry.LegalBasisProposal{}), Status: http.StatusOK, Result: camera},
		"POST /api/v1/cameras/{id}/legal-basis/approve": {Summary: "Approve a camera's pending legal basis, as an admin of another public-security organisation",
			Status: http.StatusOK, Result: camera},
		"POST /api/v1/cameras/{id}/legal-basis/decline": {Summary: "Decline a camera's pending legal basis, with a note",
			Body: input(map[string]schema{"note": str}), Status: http.StatusOK, Result: camera},
		"GET /api/v1/cameras/{id}/recordings": {Summary: "What was recorded of a camera in a window, as ranges and gaps",
			Query: []param{since, until}, Status: http.StatusOK,
			Result: object(map[string]schema{"ranges": ranges, "gaps": ranges})},
		"GET /api/v1/cameras/{id}/recording": {Summary: "The recorder's state for a camera and what it measured of the stream",
			Status: http.StatusOK, Result: object(map[string]schema{"camera_id": str, "state": str, "reason": str,
				"since": dateTime, "codec": str, "width": integer, "height": integer, "bitrate_bps": number,
				"bytes_written": integer, "segments": integer, "reconnects": integer, "packets_lost": integer, "last_part": dateTime},
				"since", "codec", "width", "height", "bitrate_bps", "bytes_written", "segments", "reconnects", "packets_lost", "last_part")},
		"GET /api/v1/compliance": {Summary: "Policy findings in the caller's scope",
			Query: []param{q("organisation_id", "Only this organisation's.", str), q("camera_id", "Only this camera's.", str), format,
				cursor, limit("100", "1000")},
			Status: http.StatusOK, Result: object(map[string]schema{"findings": list(out(registry.Finding{})), "policy_version": str, "next_cursor": str}, "next_cursor"),
			Also: []answer{csvAlso}},
		"GET /api/v1/compliance/summary": {Summary: "How many findings, on how many cameras, by rule and by organisation",
			Query:  []param{q("organisation_id", "Only this organisation's.", str)},
			Status: http.StatusOK, Result: object(counts)},

		"GET /api/v1/portal": {Summary: "The public portal: the procedure in force and the applications' statistics",
			Status: http.StatusOK, Result: out(lostperson.Portal{})},
		"GET /api/v1/procedures": {Summary: "The lost-person procedure in force and every version published",
			Status: http.StatusOK, Result: object(map[string]schema{"current": out(&lostperson.Procedure{}), "versions": out([]*lostperson.Procedure{})})},
		"POST /api/v1/procedures": {Summary: "Publish a new version of the lost-person procedure",
			Body: in(lostperson.ProcedureInput{}), Status: http.StatusCreated, Result: out(lostperson.Procedure{})},
		"POST /api/v1/applicants": {Summary: "Register as a citizen applicant; a verification code is sent to the contact",
			Body:   input(map[string]schema{"username": str, "password": str, "contact": str}),
			Status: http.StatusAccepted, Result: out(lostperson.Pending{})},
		"POST /api/v1/applicants/verify": {Summary: "Verify a registration with the code sent to the contact",
			Body: input(map[string]schema{"registration_id": str, "code": str}), Status: http.StatusCreated, Result: user},
		"POST /api/v1/applications": {Summary: "Apply for a search of the footage for a missing person",
			Body: in(lostperson.ApplicationInput{}), Status: http.StatusCreated,
			Result: object(map[string]schema{"id": str, "status": str})},
		"GET /api/v1/applications": {Summary: "An applicant's own applications, or the reviewers' queue",
			Query:  []param{q("status", "The queue's states, comma-separated (default submitted,accepted).", str), limit("500", "5000")},
			Status: http.StatusOK, Result: schema{"anyOf": []any{
				object(map[string]schema{"applications": out([]*lostperson.ApplicantView{})}),
				out(lostperson.Queue{})}}},
		"GET /api/v1/applications/{id}": {Summary: "One application: the applicant's view or the reviewer's",
			Status: http.StatusOK, Result: schema{"anyOf": []any{out(lostperson.ApplicantView{}), out(lostperson.ReviewerView{})}}},
		"POST /api/v1/applications/{id}/documents": {Summary: "Upload a document (identity, proof of relationship) to one's application",
			Query: []param{q("kind", "What the document is.", str)}, ContentType: "multipart/form-data",
			Status: http.StatusCreated, Result: object(map[string]schema{"id": str, "kind": str, "content_type": str, "bytes": integer})},
		"GET /api/v1/applications/{id}/documents/{doc}": {Summary: "A document of an application, for its reviewer",
			Status: http.StatusOK, ResultType: "application/octet-stream"},
		"GET /api/v1/applications/{id}/notice.pdf": {Summary: "The result notice of one's application, as PDF",
			Status: http.StatusOK, ResultType: "application/pdf"},
		"POST /api/v1/applications/{id}/decision": {Summary: "Accept or refuse an application",
			Body: input(map[string]schema{"accept": boolean, "reason": str}), Status: http.StatusOK, Result: out(lostperson.ReviewerView{})},
		"GET /api/v1/applications/{id}/candidates": {Summary: "The cameras near the last sighting with footage in the application's window",
			Status: http.StatusOK, Result: object(map[string]schema{"application_id": str, "from": dateTime, "to": dateTime,
				"radius_m": number, "cameras": list(out(candidate{}))})},
		"POST /api/v1/applications/{id}/findings": {Summary: "Note what a reviewer found in the footage",
			Body: input(map[string]schema{"body": str}), Status: http.StatusCreated, Result: out(lostperson.Finding{})},
		"POST /api/v1/applications/{id}/result": {Summary: "Draft the application's result notice (kept for older clients: POST …/notices is the same)",
			Body: input(map[string]schema{"outcome": str, "notice": str, "last_sighting_at": dateTime}), Status: http.StatusOK, Result: out(lostperson.ReviewerView{})},
		"GET /api/v1/applications/{id}/notices": {Summary: "An application's result notices: drafts, sent, superseded",
			Status: http.StatusOK, Result: object(map[string]schema{"notices": out([]*lostperson.Notice{})})},
		"POST /api/v1/applications/{id}/notices": {Summary: "Draft a result notice, or a correction of the sent one; its message is checked for what it must not disclose",
			Body: in(lostperson.NoticeInput{}), Status: http.StatusCreated, Result: out(lostperson.Notice{})},
		"POST /api/v1/applications/{id}/notices/{nid}/approve": {Summary: "Approve and send a draft notice, as a second reviewer of the author's organisation",
			Status: http.StatusOK, Result: out(lostperson.Notice{})},
		"POST /api/v1/applications/{id}/documents/shown": {Summary: "Record that a required document was shown in person",
			Body: input(map[string]schema{"kind": str, "note": str}), Status: http.StatusCreated, Result: out(lostperson.ShownDocument{})},
		"GET /api/v1/applications/{id}/contact": {Summary: "The applicant's verified contact, for its reviewer (the look is traced)",
			Status: http.StatusOK, Result: out(lostperson.Contact{})},

		"POST /api/v1/applications/{id}/footage-requests": {Summary: "Ask a private camera's owner for its footage in the application's window (REG-4)",
			Body: input(map[string]schema{"camera_id": str, "reason": str}), Status: http.StatusCreated, Result: out(lostperson.RequestView{})},
		"GET /api/v1/applications/{id}/footage-requests": {Summary: "The footage requests sent for an application",
			Status: http.StatusOK, Result: object(map[string]schema{"footage_requests": out([]lostperson.RequestView{})})},
		"GET /api/v1/footage-requests": {Summary: "The footage requests to the caller's organisation, as a camera owner",
			Status: http.StatusOK, Result: object(map[string]schema{"footage_requests": out([]lostperson.OwnerRequestView{})})},
		"GET /api/v1/footage-requests/{id}": {Summary: "One footage request to the caller's organisation",
			Status: http.StatusOK, Result: out(lostperson.OwnerRequestView{})},
		"POST /api/v1/footage-requests/{id}/decision": {Summary: "Approve or decline a footage request, as the camera's owner",
			Body: input(map[string]schema{"approve": boolean, "note": str}), Status: http.StatusOK, Result: out(lostperson.OwnerRequestView{})},

		"GET /api/v1/trace/checkpoint": {Summary: "The newest signed checkpoint of the trail (a C2SP signed note)",
			Status: http.StatusOK, ResultType: "text/plain"},
		"POST /api/v1/trace/checkpoint": {Summary: "Sign a checkpoint of the trail as it is now",
			Status: http.StatusCreated, ResultType: "text/plain"},
		"GET /api/v1/trace/key": {Summary: "The verifier key of the trail's checkpoints", Status: http.StatusOK, ResultType: "text/plain"},
		"GET /api/v1/trace/proof/inclusion": {Summary: "Proof that an entry is in the trail's tree",
			Query:  []param{q("seq", "The entry.", integer), q("tree_size", "The tree's size (a checkpoint's).", integer)},
			Status: http.StatusOK, Result: object(map[string]schema{"seq": integer, "tree_size": integer, "leaf_hash": str, "hashes": list(str), "root": str})},
		"GET /api/v1/trace/proof/consistency": {Summary: "Proof that a larger tree of the trail extends a smaller one",
			Query:  []param{q("size1", "The smaller size.", integer), q("size2", "The larger size.", integer)},
			Status: http.StatusOK, Result: object(map[string]schema{"size1": integer, "size2": integer, "hashes": list(str), "root1": str, "root2": str})},
		"GET /api/v1/trace/leaves": {Summary: "The exact leaf bytes of a range of the trail's entries, for verifying it off the platform",
			Query:  []param{q("start", "The first entry's index.", integer), limit("1000", "1000")},
			Status: http.StatusOK, Result: object(map[string]schema{"start": integer, "tree_size": integer, "next_start": integer,
				"leaves": list(object(map[string]schema{"index": integer, "data": schema{"type": "string", "contentEncoding": "base64"}}))}, "next_start")},
		"GET /api/v1/trace": {Summary: "The trail's entries, newest first, filtered and paged",
			Query: []param{q("actor", "Only this user's.", str), q("camera_id", "Only this camera's.", str),
				q("action", "Only this action.", str), q("outcome", "allowed or denied.", str),
				q("since", "From this time (RFC 3339).", dateTime), q("until", "Up to this time (RFC 3339).", dateTime),
				q("order", "oldest: oldest first.", str), q("cursor", "The next page: next_cursor of the previous answer.", integer),
				limit("100", "1000"), format},
			Status: http.StatusOK, Result: object(map[string]schema{"entries": out([]trace.Entry{}), "next_cursor": integer}, "next_cursor"),
			Also: []answer{csvAlso}},

		"GET /api/v1/cameras/{id}/playback.mp4": {Summary: "Play back a window of a camera's footage as fragmented MP4",
			Query: []param{since, until, purpose, appID}, Status: http.StatusOK, ResultType: "video/mp4",
			Also: []answer{{Status: http.StatusPartialContent, ContentType: "video/mp4", Description: "The byte range asked for."}}},
		"POST /api/v1/cameras/{id}/exports": {Summary: "Export a window of a camera's footage as a signed zip",
			Body: in(exportInput{}), Status: http.StatusCreated, Result: out(exportResult{}),
			Also: []answer{{Status: http.StatusAccepted, ContentType: "application/json", Description: "Under the pack's two-person rule: a request that a second user of the organisation approves.",
				Schema: object(map[string]schema{"status": str, "approval": out(footage.ExportApproval{}), "approve": str})}}},
		"GET /api/v1/export-approvals": {Summary: "The export requests of the caller's organisation awaiting a second user's approval",
			Status: http.StatusOK, Result: object(map[string]schema{"approvals": out([]*footage.ExportApproval{})})},
		"POST /api/v1/export-approvals/{id}/approve": {Summary: "Approve another user's export request: the export is made",
			Status: http.StatusCreated, Result: out(exportResult{})},
		"GET /api/v1/exports/{id}": {Summary: "Download an export (the caller's rights are checked again)",
			Status: http.StatusOK, ResultType: "application/zip",
			Also: []answer{{Status: http.StatusPartialContent, ContentType: "application/zip", Description: "The byte range asked for."}}},
		"OPTIONS /api/v1/cameras/{id}/whep": {Summary: "What the WHEP endpoint takes", Status: http.StatusNoContent},
		"POST /api/v1/cameras/{id}/whep": {Summary: "Watch a camera live: a WHEP offer, answered with the SDP answer",
			Query: []param{purpose}, Body: nil, ContentType: sdp, Status: http.StatusCreated, ResultType: sdp},
		"OPTIONS /api/v1/cameras/{id}/whep/{session}": {Summary: "What a WHEP session URL takes", Status: http.StatusNoContent},
		"PATCH /api/v1/cameras/{id}/whep/{session}": {Summary: "Add the viewer's ICE candidates to a live session (trickle ICE)",
			ContentType: "application/trickle-ice-sdpfrag", Status: http.StatusNoContent},
		"DELETE /api/v1/cameras/{id}/whep/{session}": {Summary: "End a live session", Status: http.StatusOK},

		"POST /api/v1/holds": {Summary: "Place a legal hold: footage kept beyond retention for a case",
			Body:   input(map[string]schema{"camera_ids": list(str), "start": dateTime, "end": dateTime, "reference": str, "reason": str}),
			Status: http.StatusCreated, Result: out(holdJSON{})},
		"GET /api/v1/holds": {Summary: "The legal holds",
			Query:  []param{q("camera_id", "Only holds on this camera.", str), q("active", "true or false.", boolean), cursor, limit("100", "1000")},
			Status: http.StatusOK, Result: object(map[string]schema{"holds": list(out(holdJSON{})), "next_cursor": str}, "next_cursor")},
		"DELETE /api/v1/holds/{id}": {Summary: "Release a legal hold, with the reason",
			Query: []param{q("reason", "Why it is released (or in a JSON body).", str)}, Status: http.StatusOK, Result: out(holdJSON{})},
		"GET /api/v1/storage": {Summary: "What is kept per camera, a page of cameras at a time, and the forecast of every storage location",
			Query:  []param{cursor, limit("100", "1000")},
			Status: http.StatusOK, Result: object(map[string]schema{"locations": out([]retention.Forecast{}), "cameras": list(out(storageCamera{})),
				"next_cursor": str, "bucket": anyValue}, "next_cursor", "bucket")},
		"GET /api/v1/storage/summary": {Summary: "The forecast of every storage location, without the per-camera loads",
			Status: http.StatusOK, Result: object(map[string]schema{"locations": out([]retention.Forecast{})})},

		"POST /api/v1/grants": {Summary: "Share cameras with another organisation", Body: in(sharing.GrantInput{}),
			Status: http.StatusCreated, Result: object(map[string]schema{"id": str, "grant": out(sharing.Grant{})})},
		"GET /api/v1/grants": {Summary: "The caller's organisation's sharing agreements, given and received",
			Status: http.StatusOK, Result: object(map[string]schema{"grants": out([]*sharing.Grant{})})},
		"GET /api/v1/grants/accesses": {Summary: "The owner's view: every use of its cameras by other organisations",
			Query: []param{q("organisation_id", "The owner (an admin names it).", str), format}, Status: http.StatusOK,
			Result: object(map[string]schema{"organisation_id": str, "accesses": out([]sharing.Access{})}), Also: []answer{csvAlso}},
		"GET /api/v1/grants/{id}":    {Summary: "One sharing agreement", Status: http.StatusOK, Result: out(sharing.Grant{})},
		"DELETE /api/v1/grants/{id}": {Summary: "Revoke a sharing agreement", Status: http.StatusOK, Result: out(sharing.Grant{})},
		"POST /api/v1/groups": {Summary: "Make a camera group", Body: in(sharing.GroupInput{}),
			Status: http.StatusCreated, Result: out(sharing.Group{})},
		"GET /api/v1/groups": {Summary: "The caller's organisation's camera groups",
			Status: http.StatusOK, Result: object(map[string]schema{"groups": out([]*sharing.Group{})})},
		"GET /api/v1/groups/{id}":   {Summary: "One camera group", Status: http.StatusOK, Result: out(sharing.Group{})},
		"GET /api/v1/sharing/terms": {Summary: "The published sharing terms", Status: http.StatusOK, Result: out(sharing.Terms{})},
		"GET /api/v1/sharing/cameras": {Summary: "The cameras other organisations share with the caller's",
			Status: http.StatusOK, Result: object(map[string]schema{"cameras": out([]sharing.SharedCamera{})})},
		"GET /api/v1/sharing/notifications": {Summary: "What the owner was told of its cameras' use",
			Query:  []param{q("organisation_id", "The owner (an admin names it).", str)},
			Status: http.StatusOK, Result: object(map[string]schema{"notifications": out([]*sharing.Notification{})})},

		"GET /api/v1/gb28181/devices": {Summary: "The GB/T 28181 devices and their channels",
			Status: http.StatusOK, Result: object(map[string]schema{"devices": list(out(gb28181.Device{}))})},
		"GET /api/v1/gb28181/devices/{id}": {Summary: "One GB/T 28181 device with its channels", Status: http.StatusOK, Result: out(gb28181.Device{})},
		"POST /api/v1/gb28181/devices/{id}/catalog": {Summary: "Ask a device for its catalog again",
			Status: http.StatusAccepted, Result: object(map[string]schema{"status": str})},
		"GET /api/v1/gb28181/devices/{id}/channels/{cid}/records": {Summary: "What a channel keeps on its device's own storage in a window (RecordInfo)",
			Query: []param{since, until}, Status: http.StatusOK, Result: out(gb28181.Records{})},
		"PUT /api/v1/gb28181/devices/{id}/auth": {Summary: "Set how a device authenticates: the global password, its own, or no digest",
			Body: in(gb28181.DeviceAuth{}), Status: http.StatusOK, Result: out(gb28181.Device{})},
		"POST /api/v1/gb28181/devices/{id}/adopt": {Summary: "Adopt a pending device into an organisation: its channels become planned cameras",
			Body: in(gb28181.AdoptInput{}), Status: http.StatusOK, Result: out(gb28181.Device{})},
	}
}
