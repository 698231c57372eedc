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
	code_hash     BYTEA NOT NULL,
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
-- one-minute segments. A trigger keeps it in step with every writer of recordings (recorder,
-- repair, retention). It assumes, as the recorder guarantees, that one camera's segments do not
-- overlap.
CREATE TABLE recording_spans (
	camera_id TEXT NOT NULL,
	start_at  BIGINT NOT NULL,
	end_at    BIGINT NOT NULL,
	PRIMARY KEY (camera_id, start_at)
);
CREATE INDEX recording_spans_end ON recording_spans (camera_id, end_at);

-- Adding a sealed segment [s, e): every stretch less than 1.5 s from it joins it.
CREATE FUNCTION recording_span_add(cam TEXT, s BIGINT, e BIGINT) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	ms BIGINT;
	me BIGINT;
BEGIN
	-- Lock the stretches touched, so a concurrent change (retention at the other end) waits.
	PERFORM 1 FROM recording_spans WHERE camera_id = cam AND end_at > s - 1500000 AND start_at < e + 1500000 FOR UPDATE;
	SELECT LEAST(s, MIN(start_at)), GREATEST(e, MAX(end_at)) INTO ms, me FROM recording_spans
		WHERE camera_id = cam AND end_at > s - 1500000 AND start_at < e + 1500000;
	DELETE FROM recording_spans WHERE camera_id = cam AND end_at > s - 1500000 AND start_at < e + 1500000;
	INSERT INTO recording_spans (camera_id, start_at, end_at) VALUES (cam, ms, me);
END $$;

-- Removing a sealed segment (row id skipped, for updates): its stretch shrinks from either end,
-- splits, or goes.
CREATE FUNCTION recording_span_remove(cam TEXT, s BIGINT, e BIGINT, skip BIGINT) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	ps BIGINT;
	pe BIGINT;
	pend BIGINT;
	nst BIGINT;
BEGIN
	SELECT start_at, end_at INTO ps, pe FROM recording_spans
		WHERE camera_id = cam AND start_at <= s AND end_at >= e ORDER BY start_at DESC LIMIT 1 FOR UPDATE;
	IF ps IS NULL THEN
		RETURN;
	END IF;
	SELECT end_at INTO pend FROM recordings WHERE camera_id = cam AND sealed AND id <> skip
		AND start_at >= ps AND start_at < s ORDER BY start_at DESC LIMIT 1;
	SELECT start_at INTO nst FROM recordings WHERE camera_id = cam AND sealed AND id <> skip
		AND start_at >= s AND start_at <= pe ORDER BY start_at LIMIT 1;
	IF pend IS NOT NULL AND nst IS NOT NULL AND nst - pend < 1500000 THEN
		RETURN; -- the hole left is too small to split the stretch
	END IF;
	DELETE FROM recording_spans WHERE camera_id = cam AND start_at = ps;
	IF pend IS NOT NULL THEN
		INSERT INTO recording_spans (camera_id, start_at, end_at) VALUES (cam, ps, pend);
	END IF;
	IF nst IS NOT NULL THEN
		INSERT INTO recording_spans (camera_id, start_at, end_at) VALUES (cam, nst, pe);
	END IF;
END $$;

CREATE FUNCTION recording_spans_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.sealed AND OLD.end_at > OLD.start_at THEN
		PERFORM recording_span_remove(OLD.camera_id, OLD.start_at, OLD.end_at,
			CASE WHEN TG_OP = 'UPDATE' THEN NEW.id ELSE -1 END);
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.sealed AND NEW.end_at > NEW.start_at THEN
		PERFORM recording_span_add(NEW.camera_id, NEW.start_at, NEW.end_at);
	END IF;
	RETURN NULL;
END $$;

CREATE TRIGGER recording_spans_apply AFTER INSERT OR DELETE OR UPDATE OF camera_id, start_at, end_at, sealed
	ON recordings FOR EACH ROW EXECUTE FUNCTION recording_spans_apply();

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
