-- Hidden-camera inspections and the public's reports of suspected illegal cameras (REG-2,
-- issue 17 points 4 and 5). A plan lists an establishment's room groups (JSON array of strings);
-- each record is one inspection of one group. Photos (sanitised JPEG or PNG: pixels only) are kept
-- apart so that listing records or reports never reads them. A report's receipt code is stored
-- only as its hash; its status moves received → triaged → visited → closed.
CREATE TABLE inspection_plans (
	organisation_id TEXT PRIMARY KEY,
	room_groups     TEXT NOT NULL,
	updated_by      TEXT NOT NULL,
	updated_at      BIGINT NOT NULL
);

CREATE TABLE inspection_photos (
	id           TEXT PRIMARY KEY,
	content_type TEXT NOT NULL,
	data         BYTEA NOT NULL,
	created_at   BIGINT NOT NULL
);

CREATE TABLE inspection_records (
	id              TEXT PRIMARY KEY,
	organisation_id TEXT NOT NULL,
	room_group      TEXT NOT NULL,
	inspected_on    BIGINT NOT NULL,
	inspector       TEXT NOT NULL,
	result          TEXT NOT NULL,
	notes           TEXT NOT NULL,
	photo_id        TEXT NOT NULL,
	recorded_by     TEXT NOT NULL,
	created_at      BIGINT NOT NULL
);
CREATE INDEX inspection_records_organisation ON inspection_records (organisation_id, inspected_on, created_at);

CREATE TABLE camera_reports (
	id           TEXT PRIMARY KEY,
	receipt_hash TEXT NOT NULL UNIQUE,
	place        TEXT NOT NULL,
	description  TEXT NOT NULL,
	photo_id     TEXT NOT NULL,
	status       TEXT NOT NULL,
	outcome      TEXT NOT NULL,
	public_note  TEXT NOT NULL,
	police_note  TEXT NOT NULL,
	handled_by   TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL
);
CREATE INDEX camera_reports_status ON camera_reports (status, created_at);
