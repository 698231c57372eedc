-- Where each segment lives (issue 15): 'local', under DATA/recordings, where every segment is
-- written and where it stays without recordings.s3; or 'bucket', uploaded to recordings.s3,
-- checked against its SHA-256, and its local copy removed. Rows before this migration are local.
-- The partial index is the upload queue: sealed segments still on local disk, oldest first.
ALTER TABLE recordings ADD COLUMN location TEXT NOT NULL DEFAULT 'local';
CREATE INDEX recordings_to_upload ON recordings (start_at, id) WHERE sealed AND location = 'local';
