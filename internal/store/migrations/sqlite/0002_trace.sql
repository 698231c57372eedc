-- The tamper-evident access trail (package trace). Entries are append-only; each row carries its
-- Merkle leaf hash and the tree root after it, so that Verify can name the first altered entry.
-- seq is INTEGER PRIMARY KEY so that it is the rowid: one b-tree fewer per append, and Verify's
-- scan in seq order walks the table itself.
CREATE TABLE trace_entries (
	seq             INTEGER PRIMARY KEY,
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
	leaf_hash       BLOB NOT NULL,
	root_hash       BLOB NOT NULL
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
) WITHOUT ROWID;
CREATE INDEX trace_cameras_camera ON trace_cameras (camera_id, seq);

-- One row: the committed size and root. Writers lock it so that sequence numbers stay
-- contiguous across nodes.
CREATE TABLE trace_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	size BIGINT NOT NULL,
	root BLOB NOT NULL
);
INSERT INTO trace_head (id, size, root) VALUES (1, 0, X'');

CREATE TABLE trace_checkpoints (
	size    BIGINT PRIMARY KEY,
	root    BLOB NOT NULL,
	note    BLOB NOT NULL,
	made_at BIGINT NOT NULL
);

-- These stop accidents; a determined attacker with the file can drop them, which is what the
-- Merkle tree and the signed checkpoints are for.
CREATE TRIGGER trace_entries_no_update BEFORE UPDATE ON trace_entries
BEGIN SELECT RAISE(ABORT, 'trace entries are append-only'); END;
CREATE TRIGGER trace_entries_no_delete BEFORE DELETE ON trace_entries
BEGIN SELECT RAISE(ABORT, 'trace entries are append-only'); END;
CREATE TRIGGER trace_cameras_no_update BEFORE UPDATE ON trace_cameras
BEGIN SELECT RAISE(ABORT, 'trace entries are append-only'); END;
CREATE TRIGGER trace_cameras_no_delete BEFORE DELETE ON trace_cameras
BEGIN SELECT RAISE(ABORT, 'trace entries are append-only'); END;
CREATE TRIGGER trace_checkpoints_no_update BEFORE UPDATE ON trace_checkpoints
BEGIN SELECT RAISE(ABORT, 'trace checkpoints are append-only'); END;
CREATE TRIGGER trace_checkpoints_no_delete BEFORE DELETE ON trace_checkpoints
BEGIN SELECT RAISE(ABORT, 'trace checkpoints are append-only'); END;
CREATE TRIGGER trace_head_no_delete BEFORE DELETE ON trace_head
BEGIN SELECT RAISE(ABORT, 'the trace head cannot be deleted'); END;
CREATE TRIGGER trace_head_no_shrink BEFORE UPDATE ON trace_head WHEN NEW.size < OLD.size
BEGIN SELECT RAISE(ABORT, 'the trace cannot shrink'); END;
