-- recording_spans is kept by the store itself from now on (store/recordings.go), in the
-- transactions that seal and delete segments, by the same rule as before: a camera's sealed
-- segments less than 1.5 s (1500000 µs) apart are one span. Writing the rule three times (these
-- triggers, PostgreSQL's functions, the Go that merges for playback) kept it out of the
-- recordings' code. Migration 0004's triggers and their scratch table go; the table is rebuilt
-- from the recordings, so that a database is right after this migration whatever the triggers
-- left.
DROP TRIGGER recording_spans_insert;
DROP TRIGGER recording_spans_update;
DROP TRIGGER recording_spans_delete;
DROP TABLE recording_spans_work;
DROP TABLE recording_spans;

CREATE TABLE recording_spans (
	camera_id TEXT NOT NULL,
	start_at  BIGINT NOT NULL,
	end_at    BIGINT NOT NULL,
	PRIMARY KEY (camera_id, start_at)
);
CREATE INDEX recording_spans_end ON recording_spans (camera_id, end_at);

-- A segment starts a new span when it begins 1.5 s or more after every earlier one has ended
-- (the latest end so far, not the previous row's, so that even overlapping rows merge as
-- store.RecordingRanges merges them).
INSERT INTO recording_spans (camera_id, start_at, end_at)
SELECT camera_id, MIN(start_at), MAX(end_at) FROM (
	SELECT camera_id, start_at, end_at,
		SUM(brk) OVER (PARTITION BY camera_id ORDER BY start_at, id ROWS UNBOUNDED PRECEDING) AS island
	FROM (
		SELECT id, camera_id, start_at, end_at,
			CASE WHEN start_at - MAX(end_at) OVER (PARTITION BY camera_id ORDER BY start_at, id
				ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) < 1500000 THEN 0 ELSE 1 END AS brk
		FROM recordings WHERE sealed AND end_at > start_at
	) s
) i GROUP BY camera_id, island;
