-- Many nodes on one database (issue 15): a node records a camera only while it holds the
-- camera's lease. token only grows: each taking of a lease (a node other than the holder, or the
-- holder again after expiry) adds one, and every index write of a segment names the token it was
-- written under, so a node that lost the lease (paused, partitioned) cannot write. A lease handed
-- back keeps its row (node_id '' and expired) so that its token keeps growing.
CREATE TABLE camera_leases (
    camera_id  TEXT PRIMARY KEY,
    node_id    TEXT NOT NULL,
    token      BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX camera_leases_node ON camera_leases (node_id, expires_at);
-- The live nodes: each renews its row with its leases; the fair share of cameras is counted
-- over the rows not expired.
CREATE TABLE nodes (
    node_id     TEXT PRIMARY KEY,
    max_streams BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
-- Leases of cluster-wide work, one holder at a time ('cleaner': deleting bucket objects).
CREATE TABLE cluster_leases (
    name       TEXT PRIMARY KEY,
    node_id    TEXT NOT NULL,
    token      BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
-- The node that wrote a segment, whose local disk holds it until it is uploaded; '' for rows
-- before this migration (the one node of those days).
ALTER TABLE recordings ADD COLUMN node_id TEXT NOT NULL DEFAULT '';
