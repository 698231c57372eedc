-- A camera's legal basis is one of the policy pack's legal bases plus a document reference, in
-- force only once an admin of another public-security organisation approves it (issue 13, point
-- 3). The old free-text column legal_basis keeps its text as the document reference; every
-- camera that had one waits, pending, for a basis id and an approval.
ALTER TABLE cameras ADD COLUMN legal_basis_id TEXT NOT NULL DEFAULT '';
ALTER TABLE cameras ADD COLUMN legal_basis_status TEXT NOT NULL DEFAULT '';
ALTER TABLE cameras ADD COLUMN legal_basis_proposed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE cameras ADD COLUMN legal_basis_proposed_org TEXT NOT NULL DEFAULT '';
ALTER TABLE cameras ADD COLUMN legal_basis_proposed_at BIGINT;
ALTER TABLE cameras ADD COLUMN legal_basis_decided_by TEXT NOT NULL DEFAULT '';
ALTER TABLE cameras ADD COLUMN legal_basis_decided_org TEXT NOT NULL DEFAULT '';
ALTER TABLE cameras ADD COLUMN legal_basis_decided_at BIGINT;
ALTER TABLE cameras ADD COLUMN legal_basis_note TEXT NOT NULL DEFAULT '';
UPDATE cameras SET legal_basis_status = 'pending' WHERE legal_basis <> '';
