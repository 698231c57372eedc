-- The index of recorded segments (packages segment and recorder). A row is written when a
-- segment's file is created (sealed = FALSE, end_at = start_at) and completed when it is sealed
-- with its size and SHA-256, or repaired after a crash. Retention and playback work from these
-- rows, never by walking directories; path is the segment's key in its segment store.
CREATE TABLE recordings (
	id         INTEGER PRIMARY KEY,
	camera_id  TEXT NOT NULL,
	path       TEXT NOT NULL UNIQUE,
	start_at   BIGINT NOT NULL,
	end_at     BIGINT NOT NULL,
	bytes      BIGINT NOT NULL DEFAULT 0,
	sha256     TEXT NOT NULL DEFAULT '',
	sealed     BOOLEAN NOT NULL DEFAULT FALSE,
	created_at BIGINT NOT NULL
);
CREATE INDEX recordings_camera_start ON recordings (camera_id, start_at);
CREATE INDEX recordings_start ON recordings (start_at);
CREATE INDEX recordings_unsealed ON recordings (start_at) WHERE NOT sealed;
