-- Public consultation on the police's procedures (issue 17, point 7; REG-8). An opinion keeps
-- no personal data: only its text, when it came, and the SHA-256 of the receipt code its
-- submitter was given. The answer (verdict, why, when, by whom) is written once.
CREATE TABLE consultations (
	id           TEXT PRIMARY KEY,
	title        TEXT NOT NULL,
	draft        TEXT NOT NULL,
	deadline     BIGINT NOT NULL,
	status       TEXT NOT NULL,
	published_at BIGINT NOT NULL,
	published_by TEXT NOT NULL,
	final        TEXT NOT NULL DEFAULT '',
	final_at     BIGINT,
	final_by     TEXT NOT NULL DEFAULT ''
);

CREATE TABLE consultation_opinions (
	id              TEXT PRIMARY KEY,
	consultation_id TEXT NOT NULL REFERENCES consultations (id),
	text            TEXT NOT NULL,
	submitted_at    BIGINT NOT NULL,
	receipt_hash    TEXT NOT NULL UNIQUE,
	verdict         TEXT NOT NULL DEFAULT '',
	answer          TEXT NOT NULL DEFAULT '',
	answered_at     BIGINT,
	answered_by     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX consultation_opinions_consultation ON consultation_opinions (consultation_id, submitted_at, id);

-- System filing (issue 17, point 8; Beijing's rule, a pack option): a camera is the system
-- filed. Its acceptance is when it first became active; the public security organ records the
-- filing it received (the date, who recorded it, the filing's reference).
CREATE TABLE camera_filings (
	camera_id       TEXT PRIMARY KEY,
	organisation_id TEXT NOT NULL,
	accepted_at     BIGINT NOT NULL,
	filed_at        BIGINT,
	filed_by        TEXT NOT NULL DEFAULT '',
	reference       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX camera_filings_organisation ON camera_filings (organisation_id, camera_id);
