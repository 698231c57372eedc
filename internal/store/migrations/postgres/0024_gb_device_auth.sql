-- A device may be set to register without digest while the global password applies (issue 14:
-- srs-bench's device, and many cameras, cannot answer a challenge); its own password, when set,
-- is in password.
ALTER TABLE gb_devices ADD COLUMN no_digest BOOLEAN NOT NULL DEFAULT FALSE;
