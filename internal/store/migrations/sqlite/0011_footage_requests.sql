-- Footage requests (issue 13, REG-4): a reviewer asks the owner of a private camera for its
-- footage in an application's window; the owner's organisation approves or declines. The owner
-- is shown the camera, the window and the reason, never the application or its applicant.
CREATE TABLE footage_requests (
	id                    TEXT PRIMARY KEY,
	application_id        TEXT NOT NULL REFERENCES applications (id),
	reviewer_id           TEXT NOT NULL,
	camera_id             TEXT NOT NULL,
	owner_organisation_id TEXT NOT NULL,
	from_at               BIGINT NOT NULL,
	to_at                 BIGINT NOT NULL,
	reason                TEXT NOT NULL,
	status                TEXT NOT NULL,
	created_at            BIGINT NOT NULL,
	decided_at            BIGINT,
	decided_by            TEXT NOT NULL DEFAULT '',
	decision_note         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX footage_requests_owner ON footage_requests (owner_organisation_id, created_at);
CREATE INDEX footage_requests_application ON footage_requests (application_id, camera_id);
