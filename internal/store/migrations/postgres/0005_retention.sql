-- Legal holds (package retention, REG-5): a hold keeps every segment of its cameras that
-- overlaps [start_at, end_at) from deletion until it is released. A hold is never deleted: its
-- release is recorded beside it (who, when, why), so the holds in force on any day can be told.
CREATE TABLE legal_holds (
	id               TEXT PRIMARY KEY,
	start_at         BIGINT NOT NULL,
	end_at           BIGINT NOT NULL,
	reference        TEXT NOT NULL,
	reason           TEXT NOT NULL DEFAULT '',
	created_by       TEXT NOT NULL DEFAULT '',
	created_by_name  TEXT NOT NULL DEFAULT '',
	created_at       BIGINT NOT NULL,
	released_at      BIGINT,
	released_by      TEXT NOT NULL DEFAULT '',
	released_by_name TEXT NOT NULL DEFAULT '',
	release_reason   TEXT NOT NULL DEFAULT '',
	CHECK (end_at > start_at)
);
CREATE INDEX legal_holds_active ON legal_holds (start_at) WHERE released_at IS NULL;

CREATE TABLE legal_hold_cameras (
	hold_id   TEXT NOT NULL REFERENCES legal_holds (id),
	camera_id TEXT NOT NULL,
	PRIMARY KEY (hold_id, camera_id)
);
CREATE INDEX legal_hold_cameras_camera ON legal_hold_cameras (camera_id);
