-- The live grid's saved views (issue 16): each user's own, by name; camera_ids is the JSON array
-- of the tiles' cameras in order ("" for an empty tile). Deleting the user deletes its views.
CREATE TABLE live_views (
	id         TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	name       TEXT NOT NULL,
	layout     INTEGER NOT NULL,
	camera_ids TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	UNIQUE (user_id, name)
);
