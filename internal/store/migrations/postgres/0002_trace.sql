-- The tamper-evident access trail (package trace). Entries are append-only; each row carries its
-- Merkle leaf hash and the tree root after it, so that Verify can name the first altered entry.
CREATE TABLE trace_entries (
	seq             BIGINT PRIMARY KEY,
	at              BIGINT NOT NULL,
	user_id         TEXT NOT NULL,
	username        TEXT NOT NULL,
	role            TEXT NOT NULL,
	organisation_id TEXT NOT NULL,
	client_addr     TEXT NOT NULL,
	action          TEXT NOT NULL,
	camera_ids      TEXT NOT NULL,
	range_from      BIGINT NOT NULL,
	range_to        BIGINT NOT NULL,
	reference       TEXT NOT NULL,
	purpose         TEXT NOT NULL,
	outcome         TEXT NOT NULL,
	reason          TEXT NOT NULL,
	detail          TEXT NOT NULL,
	leaf_hash       BYTEA NOT NULL,
	root_hash       BYTEA NOT NULL
);
CREATE INDEX trace_entries_at ON trace_entries (at);
CREATE INDEX trace_entries_user ON trace_entries (user_id, seq);
CREATE INDEX trace_entries_username ON trace_entries (username, seq);
CREATE INDEX trace_entries_action ON trace_entries (action, seq);

-- Which entries touched which camera, for "who looked at camera X"; Verify checks it against the
-- entries' camera_ids.
CREATE TABLE trace_cameras (
	seq       BIGINT NOT NULL,
	camera_id TEXT NOT NULL,
	PRIMARY KEY (seq, camera_id)
);
CREATE INDEX trace_cameras_camera ON trace_cameras (camera_id, seq);

-- One row: the committed size and root. Writers lock it (SELECT ... FOR UPDATE) so that sequence
-- numbers stay contiguous across nodes.
CREATE TABLE trace_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	size BIGINT NOT NULL,
	root BYTEA NOT NULL
);
INSERT INTO trace_head (id, size, root) VALUES (1, 0, '\x'::bytea);

CREATE TABLE trace_checkpoints (
	size    BIGINT PRIMARY KEY,
	root    BYTEA NOT NULL,
	note    BYTEA NOT NULL,
	made_at BIGINT NOT NULL
);

-- The database itself refuses to change or remove the trail (REG-5); only a superuser who
-- disables these triggers can, and Verify catches what such a user does.
CREATE FUNCTION trace_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'the access trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
		USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER trace_entries_append_only BEFORE UPDATE OR DELETE ON trace_entries
	FOR EACH ROW EXECUTE FUNCTION trace_refuse_change();
CREATE TRIGGER trace_entries_no_truncate BEFORE TRUNCATE ON trace_entries
	FOR EACH STATEMENT EXECUTE FUNCTION trace_refuse_change();
CREATE TRIGGER trace_cameras_append_only BEFORE UPDATE OR DELETE ON trace_cameras
	FOR EACH ROW EXECUTE FUNCTION trace_refuse_change();
CREATE TRIGGER trace_cameras_no_truncate BEFORE TRUNCATE ON trace_cameras
	FOR EACH STATEMENT EXECUTE FUNCTION trace_refuse_change();
CREATE TRIGGER trace_checkpoints_append_only BEFORE UPDATE OR DELETE ON trace_checkpoints
	FOR EACH ROW EXECUTE FUNCTION trace_refuse_change();
CREATE TRIGGER trace_checkpoints_no_truncate BEFORE TRUNCATE ON trace_checkpoints
	FOR EACH STATEMENT EXECUTE FUNCTION trace_refuse_change();
CREATE TRIGGER trace_head_no_delete BEFORE DELETE ON trace_head
	FOR EACH ROW EXECUTE FUNCTION trace_refuse_change();
CREATE TRIGGER trace_head_no_truncate BEFORE TRUNCATE ON trace_head
	FOR EACH STATEMENT EXECUTE FUNCTION trace_refuse_change();
CREATE FUNCTION trace_head_refuse_shrink() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.size < OLD.size THEN
		RAISE EXCEPTION 'the access trail cannot shrink from % to % entries', OLD.size, NEW.size
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER trace_head_no_shrink BEFORE UPDATE ON trace_head
	FOR EACH ROW EXECUTE FUNCTION trace_head_refuse_shrink();
