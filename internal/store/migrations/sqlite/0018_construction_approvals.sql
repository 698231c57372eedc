-- The public security organ's decisions on building a camera whose field of view duplicates
-- existing cameras' (issue 17, point 1; REG-3): one per camera, the latest, with the overlaps
-- the decider saw (JSON, as the API shows them) and the largest of them. The trail keeps every
-- decision; this row is what activation and the compliance findings consult.
CREATE TABLE construction_approvals (
	camera_id           TEXT PRIMARY KEY,
	status              TEXT NOT NULL,
	max_overlap_percent REAL NOT NULL,
	overlaps_json       TEXT NOT NULL,
	note                TEXT NOT NULL,
	decided_by          TEXT NOT NULL,
	decided_org         TEXT NOT NULL,
	decided_at          BIGINT NOT NULL,
	policy_version      TEXT NOT NULL
);
