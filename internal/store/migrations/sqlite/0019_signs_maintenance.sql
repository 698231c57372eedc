-- Reminder signs (REG-7) and maintenance work orders (REG-5), issue 17 points 3 and 6.
--
-- A camera's sign record: whether a sign is installed and when and by whom it was last checked
-- (cameras.sign_installed and sign_checked_at stay the fields the policy pack judges and are
-- written in the same transaction), and the photo taken at the check, by its hash.
CREATE TABLE camera_signs (
	camera_id    TEXT PRIMARY KEY,
	installed    BOOLEAN NOT NULL DEFAULT FALSE,
	checked_at   BIGINT,
	checked_by   TEXT NOT NULL DEFAULT '',
	photo_sha256 TEXT NOT NULL DEFAULT '',
	updated_at   BIGINT NOT NULL
);

-- Sign photos, re-encoded (no metadata), named by the SHA-256 of their bytes. They live in the
-- database rather than under DATA because several nodes share one PostgreSQL and each must
-- serve every photo, and because a photo then goes with the database's backups; a photo is
-- bounded (a few megabytes) and read only when someone asks for it.
CREATE TABLE sign_photos (
	sha256     TEXT PRIMARY KEY,
	type       TEXT NOT NULL,
	content    BLOB NOT NULL,
	created_at BIGINT NOT NULL
);

-- Maintenance work orders: opened by hand (cause manual) or from the camera's health (offline,
-- frozen, gaps), done with notes. The history of a camera's maintenance is its orders.
CREATE TABLE maintenance_orders (
	id              TEXT PRIMARY KEY,
	camera_id       TEXT NOT NULL,
	organisation_id TEXT NOT NULL,
	cause           TEXT NOT NULL,
	detail          TEXT NOT NULL DEFAULT '',
	status          TEXT NOT NULL,
	opened_at       BIGINT NOT NULL,
	opened_by       TEXT NOT NULL DEFAULT '',
	done_at         BIGINT,
	done_by         TEXT NOT NULL DEFAULT '',
	notes           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX maintenance_orders_camera ON maintenance_orders (camera_id, opened_at);
CREATE INDEX maintenance_orders_open ON maintenance_orders (organisation_id, status, opened_at);
-- One open automatic order per camera and cause: a camera offline for a week is one order,
-- not one per health check.
CREATE UNIQUE INDEX maintenance_orders_one_open ON maintenance_orders (camera_id, cause)
	WHERE status = 'open' AND cause <> 'manual';
