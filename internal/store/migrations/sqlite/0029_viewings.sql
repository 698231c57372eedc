-- Review by time (issue 16, point 4): a viewing is one look at up to four cameras over an
-- extent of time, traced once when it opens; the ranges its player asked for inside the extent
-- (its seeks) are kept here with it rather than each making a trail entry of its own.
CREATE TABLE viewings (
	id             TEXT PRIMARY KEY,
	user_id        TEXT NOT NULL,
	camera_ids     TEXT NOT NULL,
	start_at       BIGINT NOT NULL,
	end_at         BIGINT NOT NULL,
	purpose        TEXT NOT NULL,
	application_id TEXT NOT NULL DEFAULT '',
	case_ref       TEXT NOT NULL DEFAULT '',
	opened_at      BIGINT NOT NULL,
	last_at        BIGINT NOT NULL,
	seeks          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX viewings_user ON viewings (user_id, opened_at);

CREATE TABLE viewing_seeks (
	viewing_id TEXT NOT NULL REFERENCES viewings (id),
	camera_id  TEXT NOT NULL,
	start_at   BIGINT NOT NULL,
	end_at     BIGINT NOT NULL,
	at         BIGINT NOT NULL,
	PRIMARY KEY (viewing_id, camera_id, start_at, end_at)
);
