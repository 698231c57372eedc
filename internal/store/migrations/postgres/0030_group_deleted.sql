-- Camera groups can be deleted (issue 16 point 5). A deleted group keeps its row: revoked and
-- ended grants still name it, and the trail's references to it must keep resolving. deleted_at
-- hides it from the lists and from new grants.
ALTER TABLE camera_groups ADD COLUMN deleted_at BIGINT;
