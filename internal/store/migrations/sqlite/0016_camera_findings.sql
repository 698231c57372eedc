-- The compliance report's findings, kept per camera (issue 15, point 6): computing the policy
-- pack's findings for 100,000 cameras on every request took seconds. The registry rewrites a
-- camera's rows whenever it writes the camera, and every row when the pack's version changes
-- (camera_findings_pack). A finding that comes into force later by itself (maintenance falls
-- due) is stored with due_at, the instant after which it holds; NULL holds now. The message is
-- not stored: a page's findings are computed again from their cameras when served, so it is
-- always the pack's as of that moment.
CREATE TABLE camera_findings (
	camera_id       TEXT NOT NULL,
	ord             INTEGER NOT NULL,
	code            TEXT NOT NULL,
	organisation_id TEXT NOT NULL,
	due_at          BIGINT,
	PRIMARY KEY (camera_id, ord)
);
CREATE INDEX camera_findings_organisation ON camera_findings (organisation_id, camera_id, ord);

CREATE TABLE camera_findings_pack (
	id             INTEGER PRIMARY KEY CHECK (id = 1),
	policy_version TEXT NOT NULL
);
