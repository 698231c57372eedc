-- Hold classes (issue 13 point 10): a hold of class 'important' is placed under the pack's
-- important_footage_days option and cannot be released before kept_until (microseconds; the
-- end of the footage it holds plus that period), so the cleaner, which keeps whatever an
-- active hold covers, keeps the footage at least that long. '' is an ordinary hold.
ALTER TABLE legal_holds ADD COLUMN class TEXT NOT NULL DEFAULT '';
ALTER TABLE legal_holds ADD COLUMN kept_until BIGINT;

-- Two-person exports (issue 13 point 10): under the pack's two_person_export option an export is
-- first a request that a second user of the requester's organisation approves; the export is
-- made when approved and names both. A request is never deleted.
CREATE TABLE export_approvals (
	id                 TEXT PRIMARY KEY,
	camera_id          TEXT NOT NULL,
	start_at           BIGINT NOT NULL,
	end_at             BIGINT NOT NULL,
	purpose            TEXT NOT NULL,
	case_ref           TEXT NOT NULL,
	application_id     TEXT NOT NULL DEFAULT '',
	recipient          TEXT NOT NULL DEFAULT '',
	requested_by       TEXT NOT NULL,
	requested_by_name  TEXT NOT NULL,
	organisation_id    TEXT NOT NULL DEFAULT '',
	requested_at       BIGINT NOT NULL,
	approved_by        TEXT NOT NULL DEFAULT '',
	approved_by_name   TEXT NOT NULL DEFAULT '',
	approved_at        BIGINT,
	export_id          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX export_approvals_pending ON export_approvals (organisation_id, requested_at) WHERE approved_at IS NULL;
