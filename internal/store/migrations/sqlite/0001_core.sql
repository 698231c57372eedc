CREATE TABLE organisations (
	id                 TEXT PRIMARY KEY,
	name               TEXT NOT NULL UNIQUE,
	kind               TEXT NOT NULL,
	department_type    TEXT NOT NULL DEFAULT '',
	establishment_type TEXT NOT NULL DEFAULT '',
	created_at         BIGINT NOT NULL,
	updated_at         BIGINT NOT NULL
);

CREATE TABLE cameras (
	id                        TEXT PRIMARY KEY,
	name                      TEXT NOT NULL,
	organisation_id           TEXT NOT NULL REFERENCES organisations(id),
	investment                TEXT NOT NULL,
	lat                       DOUBLE PRECISION NOT NULL,
	lon                       DOUBLE PRECISION NOT NULL,
	address                   TEXT NOT NULL DEFAULT '',
	place_category            TEXT NOT NULL,
	bearing                   DOUBLE PRECISION NOT NULL DEFAULT 0,
	fov_angle                 DOUBLE PRECISION NOT NULL DEFAULT 0,
	range_m                   DOUBLE PRECISION NOT NULL DEFAULT 0,
	source_url                TEXT NOT NULL DEFAULT '',
	networked                 BOOLEAN NOT NULL DEFAULT FALSE,
	interface_reserved        BOOLEAN NOT NULL DEFAULT FALSE,
	sign_installed            BOOLEAN NOT NULL DEFAULT FALSE,
	sign_checked_at           BIGINT,
	retention_days            INTEGER NOT NULL,
	maintenance_interval_days INTEGER NOT NULL DEFAULT 0,
	last_maintenance_at       BIGINT,
	status                    TEXT NOT NULL,
	legal_basis               TEXT NOT NULL DEFAULT '',
	gb_device_id              TEXT,
	created_at                BIGINT NOT NULL,
	updated_at                BIGINT NOT NULL
);
CREATE INDEX cameras_organisation ON cameras (organisation_id);
CREATE INDEX cameras_updated ON cameras (updated_at);
CREATE UNIQUE INDEX cameras_gb_device_id ON cameras (gb_device_id) WHERE gb_device_id IS NOT NULL;

CREATE TABLE users (
	id              TEXT PRIMARY KEY,
	username        TEXT NOT NULL UNIQUE,
	password_hash   TEXT NOT NULL,
	role            TEXT NOT NULL,
	organisation_id TEXT REFERENCES organisations(id),
	disabled        BOOLEAN NOT NULL DEFAULT FALSE,
	created_at      BIGINT NOT NULL,
	updated_at      BIGINT NOT NULL
);

CREATE TABLE sessions (
	token_hash   BLOB PRIMARY KEY,
	user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	created_at   BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL,
	client_addr  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
