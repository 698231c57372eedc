-- Lost-person applications (package request, REG-6): the published procedure's versions,
-- applicant self-registrations waiting for their code, applications with their deadlines and
-- result, uploaded documents, reviewers' internal findings, footage grants bound to an
-- application, and the notification outbox.
CREATE TABLE procedure_versions (
	version        INTEGER PRIMARY KEY,
	title_zh       TEXT NOT NULL,
	title_en       TEXT NOT NULL,
	body_zh        TEXT NOT NULL,
	body_en        TEXT NOT NULL,
	documents      TEXT NOT NULL, -- JSON: the required documents
	conditions     TEXT NOT NULL, -- JSON: subjects, relationships and steps from the policy pack
	policy_version TEXT NOT NULL,
	published_at   BIGINT NOT NULL,
	published_by   TEXT NOT NULL DEFAULT ''
);

CREATE TABLE applicant_registrations (
	id            TEXT PRIMARY KEY,
	username      TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	contact_kind  TEXT NOT NULL,
	contact       TEXT NOT NULL,
	code_hash     BLOB NOT NULL,
	attempts      INTEGER NOT NULL DEFAULT 0,
	expires_at    BIGINT NOT NULL,
	created_at    BIGINT NOT NULL,
	used_at       BIGINT
);
CREATE INDEX applicant_registrations_contact ON applicant_registrations (contact, created_at);

CREATE TABLE applicant_contacts (
	user_id      TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
	contact_kind TEXT NOT NULL,
	contact      TEXT NOT NULL,
	verified_at  BIGINT NOT NULL
);

CREATE TABLE applications (
	id                  TEXT PRIMARY KEY,
	applicant_id        TEXT NOT NULL REFERENCES users(id),
	status              TEXT NOT NULL,
	relationship        TEXT NOT NULL,
	relationship_detail TEXT NOT NULL DEFAULT '',
	subject_category    TEXT NOT NULL,
	urgent              BOOLEAN NOT NULL DEFAULT FALSE,
	last_seen_at        BIGINT,
	lat                 DOUBLE PRECISION,
	lon                 DOUBLE PRECISION,
	address             TEXT NOT NULL DEFAULT '',
	description         TEXT NOT NULL DEFAULT '',
	refusal_code        TEXT NOT NULL DEFAULT '',
	refusal_reason      TEXT NOT NULL DEFAULT '',
	policy_version      TEXT NOT NULL,
	submitted_at        BIGINT NOT NULL,
	triage_due          BIGINT,
	review_due          BIGINT,
	result_due          BIGINT,
	decided_at          BIGINT,
	decided_by          TEXT NOT NULL DEFAULT '',
	decision_reason     TEXT NOT NULL DEFAULT '',
	reviewed_at         BIGINT,
	outcome             TEXT NOT NULL DEFAULT '',
	notice              TEXT NOT NULL DEFAULT '',
	result_at           BIGINT,
	result_by           TEXT NOT NULL DEFAULT '',
	updated_at          BIGINT NOT NULL
);
CREATE INDEX applications_applicant ON applications (applicant_id, submitted_at);
CREATE INDEX applications_status ON applications (status, submitted_at);
CREATE INDEX applications_submitted ON applications (submitted_at);

CREATE TABLE application_documents (
	id             TEXT PRIMARY KEY,
	application_id TEXT NOT NULL REFERENCES applications(id),
	kind           TEXT NOT NULL,
	content_type   TEXT NOT NULL,
	bytes          BIGINT NOT NULL,
	sha256         TEXT NOT NULL,
	stored_name    TEXT NOT NULL UNIQUE,
	created_at     BIGINT NOT NULL
);
CREATE INDEX application_documents_application ON application_documents (application_id);

CREATE TABLE application_findings (
	id             TEXT PRIMARY KEY,
	application_id TEXT NOT NULL REFERENCES applications(id),
	author_id      TEXT NOT NULL,
	body           TEXT NOT NULL,
	created_at     BIGINT NOT NULL
);
CREATE INDEX application_findings_application ON application_findings (application_id, created_at);

-- "Reviewer R may see camera C in window [from_at, to_at) for application A": written by the
-- candidate search, read by playback through request.Service.FootageAllowed.
CREATE TABLE application_grants (
	application_id TEXT NOT NULL REFERENCES applications(id),
	reviewer_id    TEXT NOT NULL,
	camera_id      TEXT NOT NULL,
	from_at        BIGINT NOT NULL,
	to_at          BIGINT NOT NULL,
	created_at     BIGINT NOT NULL,
	PRIMARY KEY (application_id, reviewer_id, camera_id)
);

CREATE TABLE outbox (
	id           TEXT PRIMARY KEY,
	kind         TEXT NOT NULL,
	channel      TEXT NOT NULL,
	recipient    TEXT NOT NULL,
	reference    TEXT NOT NULL DEFAULT '',
	subject      TEXT NOT NULL,
	body         TEXT NOT NULL,
	status       TEXT NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_at      BIGINT NOT NULL,
	last_error   TEXT NOT NULL DEFAULT '',
	created_at   BIGINT NOT NULL,
	delivered_at BIGINT
);
CREATE INDEX outbox_due ON outbox (status, next_at);


-- recording_spans keeps, per camera, the stretches of sealed recording merged as
-- store.RecordingRanges merges them (segments less than 1.5 s = 1500000 µs apart are one
-- stretch), so that the candidate search reads a few rows per camera instead of a month of
-- one-minute segments. Triggers keep it in step with every writer of recordings (recorder,
-- repair, retention). They assume, as the recorder guarantees, that one camera's segments do
-- not overlap.
CREATE TABLE recording_spans (
	camera_id TEXT NOT NULL,
	start_at  BIGINT NOT NULL,
	end_at    BIGINT NOT NULL,
	PRIMARY KEY (camera_id, start_at)
);
CREATE INDEX recording_spans_end ON recording_spans (camera_id, end_at);

-- Scratch row for the triggers, empty between them: SQLite triggers have no variables, and
-- writes are serialized, so one row serves every run. Taking a segment out of its stretch:
--   ps, pe: the stretch holding the segment; pend: end of the segment before it in that stretch;
--   nst: start of the segment after it in that stretch. Adding one: ps, pe is the merged stretch.
-- (Merged here, not by INSERT OR REPLACE: the recorder's upsert would override that conflict rule.)
CREATE TABLE recording_spans_work (ps BIGINT, pe BIGINT, pend BIGINT, nst BIGINT);

-- Adding a sealed segment [s, e): every stretch less than 1.5 s from it joins it.
CREATE TRIGGER recording_spans_insert AFTER INSERT ON recordings
WHEN NEW.sealed AND NEW.end_at > NEW.start_at
BEGIN
	-- The usual case: the segment extends the one stretch it touches.
	UPDATE recording_spans SET start_at = MIN(start_at, NEW.start_at), end_at = MAX(end_at, NEW.end_at)
		WHERE camera_id = NEW.camera_id AND end_at > NEW.start_at - 1500000 AND start_at < NEW.end_at + 1500000
			AND (SELECT COUNT(*) FROM recording_spans INDEXED BY recording_spans_end WHERE camera_id = NEW.camera_id AND end_at > NEW.start_at - 1500000 AND start_at < NEW.end_at + 1500000) = 1;
	-- Otherwise it starts a stretch, or joins several into one.
	INSERT INTO recording_spans_work (ps, pe)
		SELECT MIN(s), MAX(e) FROM (
			SELECT start_at AS s, end_at AS e FROM recording_spans INDEXED BY recording_spans_end WHERE camera_id = NEW.camera_id AND end_at > NEW.start_at - 1500000 AND start_at < NEW.end_at + 1500000
			UNION ALL SELECT NEW.start_at, NEW.end_at)
		WHERE (SELECT COUNT(*) FROM recording_spans INDEXED BY recording_spans_end WHERE camera_id = NEW.camera_id AND end_at > NEW.start_at - 1500000 AND start_at < NEW.end_at + 1500000) <> 1
		GROUP BY NEW.camera_id;
	DELETE FROM recording_spans WHERE EXISTS (SELECT 1 FROM recording_spans_work) AND camera_id = NEW.camera_id AND end_at > NEW.start_at - 1500000 AND start_at < NEW.end_at + 1500000;
	INSERT INTO recording_spans (camera_id, start_at, end_at) SELECT NEW.camera_id, ps, pe FROM recording_spans_work;
	DELETE FROM recording_spans_work WHERE ps IS NOT NULL;
END;

-- Removing a sealed segment: its stretch shrinks from either end, splits, or goes.
CREATE TRIGGER recording_spans_delete AFTER DELETE ON recordings
WHEN OLD.sealed AND OLD.end_at > OLD.start_at
BEGIN
	INSERT INTO recording_spans_work (ps, pe)
		SELECT start_at, end_at FROM recording_spans
		WHERE camera_id = OLD.camera_id AND start_at <= OLD.start_at AND end_at >= OLD.end_at
		ORDER BY start_at DESC LIMIT 1;
	UPDATE recording_spans_work SET
		pend = (SELECT end_at FROM recordings WHERE camera_id = OLD.camera_id AND sealed
			AND start_at >= recording_spans_work.ps AND start_at < OLD.start_at ORDER BY start_at DESC LIMIT 1),
		nst = (SELECT start_at FROM recordings WHERE camera_id = OLD.camera_id AND sealed
			AND start_at >= OLD.start_at AND start_at <= recording_spans_work.pe ORDER BY start_at LIMIT 1);
	-- split: the right part becomes a stretch of its own
	INSERT INTO recording_spans (camera_id, start_at, end_at)
		SELECT OLD.camera_id, nst, pe FROM recording_spans_work
		WHERE pend IS NOT NULL AND nst IS NOT NULL AND nst - pend >= 1500000;
	-- the left part, or what is left, keeps the stretch's row
	UPDATE recording_spans SET end_at = (SELECT pend FROM recording_spans_work)
		WHERE camera_id = OLD.camera_id AND start_at = (SELECT ps FROM recording_spans_work
			WHERE pend IS NOT NULL AND (nst IS NULL OR nst - pend >= 1500000));
	UPDATE recording_spans SET start_at = (SELECT nst FROM recording_spans_work)
		WHERE camera_id = OLD.camera_id AND start_at = (SELECT ps FROM recording_spans_work
			WHERE pend IS NULL AND nst IS NOT NULL);
	DELETE FROM recording_spans
		WHERE camera_id = OLD.camera_id AND start_at = (SELECT ps FROM recording_spans_work
			WHERE pend IS NULL AND nst IS NULL);
	DELETE FROM recording_spans_work WHERE ps IS NOT NULL;
END;

-- An update takes the old segment out (as the delete trigger does, not counting the row itself)
-- and puts the new one in (as the insert trigger does): sealing, cutting after a crash. One
-- trigger, so that the order is certain.
CREATE TRIGGER recording_spans_update AFTER UPDATE OF camera_id, start_at, end_at, sealed ON recordings
WHEN (OLD.sealed AND OLD.end_at > OLD.start_at) OR (NEW.sealed AND NEW.end_at > NEW.start_at)
BEGIN
	INSERT INTO recording_spans_work (ps, pe)
		SELECT start_at, end_at FROM recording_spans
		WHERE (OLD.sealed AND OLD.end_at > OLD.start_at) AND camera_id = OLD.camera_id AND start_at <= OLD.start_at AND end_at >= OLD.end_at
		ORDER BY start_at DESC LIMIT 1;
	UPDATE recording_spans_work SET
		pend = (SELECT end_at FROM recordings WHERE camera_id = OLD.camera_id AND sealed AND id <> NEW.id
			AND start_at >= recording_spans_work.ps AND start_at < OLD.start_at ORDER BY start_at DESC LIMIT 1),
		nst = (SELECT start_at FROM recordings WHERE camera_id = OLD.camera_id AND sealed AND id <> NEW.id
			AND start_at >= OLD.start_at AND start_at <= recording_spans_work.pe ORDER BY start_at LIMIT 1);
	-- split: the right part becomes a stretch of its own
	INSERT INTO recording_spans (camera_id, start_at, end_at)
		SELECT OLD.camera_id, nst, pe FROM recording_spans_work
		WHERE pend IS NOT NULL AND nst IS NOT NULL AND nst - pend >= 1500000;
	-- the left part, or what is left, keeps the stretch's row
	UPDATE recording_spans SET end_at = (SELECT pend FROM recording_spans_work)
		WHERE camera_id = OLD.camera_id AND start_at = (SELECT ps FROM recording_spans_work
			WHERE pend IS NOT NULL AND (nst IS NULL OR nst - pend >= 1500000));
	UPDATE recording_spans SET start_at = (SELECT nst FROM recording_spans_work)
		WHERE camera_id = OLD.camera_id AND start_at = (SELECT ps FROM recording_spans_work
			WHERE pend IS NULL AND nst IS NOT NULL);
	DELETE FROM recording_spans
		WHERE camera_id = OLD.camera_id AND start_at = (SELECT ps FROM recording_spans_work
			WHERE pend IS NULL AND nst IS NULL);
	DELETE FROM recording_spans_work WHERE ps IS NOT NULL;

	-- The usual case: the segment extends the one stretch it touches.
	UPDATE recording_spans SET start_at = MIN(start_at, NEW.start_at), end_at = MAX(end_at, NEW.end_at)
		WHERE (NEW.sealed AND NEW.end_at > NEW.start_at) AND camera_id = NEW.camera_id AND end_at > NEW.start_at - 1500000 AND start_at < NEW.end_at + 1500000
			AND (SELECT COUNT(*) FROM recording_spans INDEXED BY recording_spans_end WHERE camera_id = NEW.camera_id AND end_at > NEW.start_at - 1500000 AND start_at < NEW.end_at + 1500000) = 1;
	-- Otherwise it starts a stretch, or joins several into one.
	INSERT INTO recording_spans_work (ps, pe)
		SELECT MIN(s), MAX(e) FROM (
			SELECT start_at AS s, end_at AS e FROM recording_spans INDEXED BY recording_spans_end WHERE camera_id = NEW.camera_id AND end_at > NEW.start_at - 1500000 AND start_at < NEW.end_at + 1500000
			UNION ALL SELECT NEW.start_at, NEW.end_at)
		WHERE (NEW.sealed AND NEW.end_at > NEW.start_at) AND (SELECT COUNT(*) FROM recording_spans INDEXED BY recording_spans_end WHERE camera_id = NEW.camera_id AND end_at > NEW.start_at - 1500000 AND start_at < NEW.end_at + 1500000) <> 1
		GROUP BY NEW.camera_id;
	DELETE FROM recording_spans WHERE EXISTS (SELECT 1 FROM recording_spans_work) AND camera_id = NEW.camera_id AND end_at > NEW.start_at - 1500000 AND start_at < NEW.end_at + 1500000;
	INSERT INTO recording_spans (camera_id, start_at, end_at) SELECT NEW.camera_id, ps, pe FROM recording_spans_work;
	DELETE FROM recording_spans_work WHERE ps IS NOT NULL;
END;

-- What is already recorded, merged once.
INSERT INTO recording_spans (camera_id, start_at, end_at)
SELECT camera_id, MIN(start_at), MAX(end_at) FROM (
	SELECT camera_id, start_at, end_at,
		SUM(brk) OVER (PARTITION BY camera_id ORDER BY start_at ROWS UNBOUNDED PRECEDING) AS island
	FROM (
		SELECT camera_id, start_at, end_at,
			CASE WHEN start_at - LAG(end_at) OVER (PARTITION BY camera_id ORDER BY start_at) < 1500000 THEN 0 ELSE 1 END AS brk
		FROM recordings WHERE sealed AND end_at > start_at
	) s
) i GROUP BY camera_id, island;
