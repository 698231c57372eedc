-- Layout 2 of the trail (package trace): each entry is stored as one canonical JSON text, the
-- exact bytes its leaf hash covers, and the columns auditors filter on are generated from it.
-- Verify then reads four columns per entry instead of eighteen, and no query column can disagree
-- with the leaf. Beside the leaf hash each entry keeps a chain hash, SHA-256(0x02 || the previous
-- entry's chain hash || leaf hash), in place of the tree root after it: it pins every earlier
-- leaf as the root did, so Verify still names the exact entry whose hashes were rewritten, at one
-- hash per entry instead of a fold of the whole compact range.
-- Rows of layout 1 are carried over as a JSON object of their old columns ({"v":1,...}) and keep
-- their tree roots in chain_hash; their leaves stay the layout-1 hashes, which Verify recomputes
-- from that object. The first new entry chains from the last migrated root.
-- entry is TEXT, not jsonb: the leaf covers its bytes, which jsonb would not keep.
CREATE TABLE trace_entries_v2 (
	seq       BIGINT PRIMARY KEY,
	entry     TEXT NOT NULL,
	leaf_hash BYTEA NOT NULL,
	chain_hash BYTEA NOT NULL,
	at        BIGINT GENERATED ALWAYS AS ((entry::json ->> 'at')::bigint) STORED,
	user_id   TEXT GENERATED ALWAYS AS (entry::json ->> 'user_id') STORED,
	username  TEXT GENERATED ALWAYS AS (entry::json ->> 'username') STORED,
	action    TEXT GENERATED ALWAYS AS (entry::json ->> 'action') STORED,
	outcome   TEXT GENERATED ALWAYS AS (entry::json ->> 'outcome') STORED
);
INSERT INTO trace_entries_v2 (seq, entry, leaf_hash, chain_hash)
SELECT seq, '{"v":1,' || substr(json_build_object('seq', seq, 'camera_ids', camera_ids, 'at', at,
		'user_id', user_id, 'username', username, 'role', role, 'organisation_id', organisation_id,
		'client_addr', client_addr, 'action', action, 'range_from', range_from, 'range_to', range_to,
		'reference', reference, 'purpose', purpose, 'outcome', outcome, 'reason', reason,
		'detail', detail)::text, 2),
	leaf_hash, root_hash
FROM trace_entries ORDER BY seq;
DROP TABLE trace_entries;
ALTER TABLE trace_entries_v2 RENAME TO trace_entries;
ALTER INDEX trace_entries_v2_pkey RENAME TO trace_entries_pkey;
CREATE INDEX trace_entries_at ON trace_entries (at);
CREATE INDEX trace_entries_user ON trace_entries (user_id, seq);
CREATE INDEX trace_entries_username ON trace_entries (username, seq);
CREATE INDEX trace_entries_action ON trace_entries (action, seq);
CREATE TRIGGER trace_entries_append_only BEFORE UPDATE OR DELETE ON trace_entries
	FOR EACH ROW EXECUTE FUNCTION trace_refuse_change();
CREATE TRIGGER trace_entries_no_truncate BEFORE TRUNCATE ON trace_entries
	FOR EACH STATEMENT EXECUTE FUNCTION trace_refuse_change();
