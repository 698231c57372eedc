-- Result notices as drafts approved by a second reviewer (REG-6), corrections superseding a sent
-- notice, and the documents a reviewer saw in person instead of an upload.
CREATE TABLE result_notices (
	id               TEXT PRIMARY KEY,
	application_id   TEXT NOT NULL REFERENCES applications(id),
	outcome          TEXT NOT NULL,
	last_sighting_at BIGINT,
	message          TEXT NOT NULL,
	status           TEXT NOT NULL, -- draft, withdrawn, sent, superseded
	supersedes       TEXT NOT NULL DEFAULT '', -- the sent notice a correction replaces
	author_id        TEXT NOT NULL,
	author_org       TEXT NOT NULL DEFAULT '',
	approved_by      TEXT NOT NULL DEFAULT '',
	sent_at          BIGINT,
	superseded_at    BIGINT,
	created_at       BIGINT NOT NULL
);
CREATE INDEX result_notices_application ON result_notices (application_id, created_at);

CREATE TABLE application_documents_shown (
	id             TEXT PRIMARY KEY,
	application_id TEXT NOT NULL REFERENCES applications(id),
	kind           TEXT NOT NULL,
	reviewer_id    TEXT NOT NULL,
	note           TEXT NOT NULL DEFAULT '',
	shown_at       BIGINT NOT NULL
);
CREATE INDEX application_documents_shown_application ON application_documents_shown (application_id);
