-- The GB/T 28181 play dialogs (INVITEs) a platform has open (issue 14): kept so that a platform
-- that stopped without its BYEs (a crash, a kill) ends them when it starts again, or when the
-- device registers again, instead of leaving devices streaming to ports no one reads. platform is
-- the SIP address of the node that opened the dialog.
CREATE TABLE gb_dialogs (
	call_id     TEXT PRIMARY KEY,
	platform    TEXT NOT NULL,
	device_id   TEXT NOT NULL,
	channel_id  TEXT NOT NULL,
	transport   TEXT NOT NULL,
	remote_addr TEXT NOT NULL,
	target      TEXT NOT NULL,
	from_tag    TEXT NOT NULL,
	to_tag      TEXT NOT NULL DEFAULT '',
	cseq        BIGINT NOT NULL,
	started_at  BIGINT NOT NULL
);
CREATE INDEX gb_dialogs_platform ON gb_dialogs (platform);
