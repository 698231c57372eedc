-- The public security organ's decisions on building a camera whose field of view duplicates
-- existing cameras' (issue 17, point 1; REG-3): one per camera, the latest, with the overlaps
-- the decider saw (JSON, as the API shows them) and the largest of them. The trail keeps every
-- decision; this row is what activation and the compliance findings consult.
CREATE TABLE construction_approvals (
	camera_id           TEXT PRIMARY KEY,
	status              TEXT NOT NULL,
	max_overlap_percent DOUBLE PRECISION NOT NULL,
	overlaps_json       TEXT NOT NULL,
	note                TEXT NOT NULL,
	decided_by          TEXT NOT NULL,
	decided_org         TEXT NOT NULL,
	decided_at          BIGINT NOT NULL,
	policy_version      TEXT NOT NULL
);

-- The city's register of places (issue 17, point 2; REG-1), which the key places' coverage
-- report reads: a point, or a polygon's outer ring as GeoJSON coordinates ([lon, lat] pairs),
-- with lat/lon its vertices' mean.
CREATE TABLE places (
	id             TEXT PRIMARY KEY,
	name           TEXT NOT NULL,
	place_category TEXT NOT NULL,
	lat            DOUBLE PRECISION NOT NULL,
	lon            DOUBLE PRECISION NOT NULL,
	polygon        TEXT NOT NULL,
	created_at     BIGINT NOT NULL
);
