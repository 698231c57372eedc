-- Sharing between organisations (package sharing, REG-3/REG-4): the versioned terms an owner
-- agrees to, camera groups, grants with the consent they record, and the owner notifications
-- that emergency use raises. Grants are never deleted: revocation stamps them, so the trail's
-- past accesses can still be matched to the grant they were made under.
CREATE TABLE sharing_terms (
	version      INTEGER PRIMARY KEY,
	body         TEXT NOT NULL,
	published_at BIGINT NOT NULL
);
INSERT INTO sharing_terms (version, body, published_at) VALUES (1,
'The owner shares the listed cameras with the grantee organisation for the stated purpose and period only. The grantee uses the video for that purpose alone, keeps trade secrets and personal privacy confidential, does not pass the video on, and accepts that every look is traced and shown to the owner. The owner may revoke the grant at any time; revocation takes effect at once. An emergency scope may be used only under a case reference, and the owner is notified of each use.',
0);

CREATE TABLE camera_groups (
	id              TEXT PRIMARY KEY,
	organisation_id TEXT NOT NULL REFERENCES organisations(id),
	name            TEXT NOT NULL,
	kind            TEXT NOT NULL,
	criterion       TEXT NOT NULL DEFAULT '',
	camera_ids      TEXT NOT NULL DEFAULT '[]', -- JSON: the hand-picked cameras
	created_by      TEXT NOT NULL,
	created_at      BIGINT NOT NULL
);
CREATE INDEX camera_groups_organisation ON camera_groups (organisation_id, created_at);

CREATE TABLE sharing_grants (
	id                      TEXT PRIMARY KEY,
	owner_organisation_id   TEXT NOT NULL REFERENCES organisations(id),
	grantee_organisation_id TEXT NOT NULL REFERENCES organisations(id),
	camera_ids              TEXT NOT NULL DEFAULT '[]', -- JSON; empty when by group
	group_id                TEXT REFERENCES camera_groups(id),
	scopes                  TEXT NOT NULL, -- comma-separated
	purpose                 TEXT NOT NULL,
	starts_at               BIGINT NOT NULL,
	ends_at                 BIGINT,
	granted_by              TEXT NOT NULL,
	granted_at              BIGINT NOT NULL,
	terms_version           INTEGER NOT NULL REFERENCES sharing_terms(version),
	revoked_at              BIGINT,
	revoked_by              TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sharing_grants_pair ON sharing_grants (owner_organisation_id, grantee_organisation_id);
CREATE INDEX sharing_grants_grantee ON sharing_grants (grantee_organisation_id);

CREATE TABLE sharing_notifications (
	id              TEXT PRIMARY KEY,
	organisation_id TEXT NOT NULL,
	grant_id        TEXT NOT NULL REFERENCES sharing_grants(id),
	camera_id       TEXT NOT NULL,
	user_id         TEXT NOT NULL,
	case_ref        TEXT NOT NULL,
	created_at      BIGINT NOT NULL,
	delivered_at    BIGINT,
	UNIQUE (grant_id, camera_id, user_id, case_ref)
);
CREATE INDEX sharing_notifications_organisation ON sharing_notifications (organisation_id, created_at);
