-- GB/T 28181 devices that registered with the platform, and the channels their catalogs list
-- (issue 14). A device with no organisation is pending: it registered, nothing of it is
-- recorded until an operator adopts it, and then each channel has the camera it became.
CREATE TABLE gb_devices (
	id              TEXT PRIMARY KEY,
	name            TEXT NOT NULL DEFAULT '',
	organisation_id TEXT REFERENCES organisations (id),
	online          BOOLEAN NOT NULL DEFAULT FALSE,
	transport       TEXT NOT NULL DEFAULT '',
	remote_addr     TEXT NOT NULL DEFAULT '',
	manufacturer    TEXT NOT NULL DEFAULT '',
	model           TEXT NOT NULL DEFAULT '',
	firmware        TEXT NOT NULL DEFAULT '',
	password        TEXT NOT NULL DEFAULT '',
	registered_at   BIGINT NOT NULL,
	last_seen       BIGINT NOT NULL
);
CREATE INDEX gb_devices_organisation ON gb_devices (organisation_id);

CREATE TABLE gb_channels (
	device_id    TEXT NOT NULL REFERENCES gb_devices (id),
	id           TEXT NOT NULL,
	name         TEXT NOT NULL DEFAULT '',
	status       TEXT NOT NULL DEFAULT '',
	camera_id    TEXT REFERENCES cameras (id),
	parent_id    TEXT NOT NULL DEFAULT '',
	manufacturer TEXT NOT NULL DEFAULT '',
	model        TEXT NOT NULL DEFAULT '',
	address      TEXT NOT NULL DEFAULT '',
	lat          DOUBLE PRECISION NOT NULL DEFAULT 0,
	lon          DOUBLE PRECISION NOT NULL DEFAULT 0,
	PRIMARY KEY (device_id, id)
);
