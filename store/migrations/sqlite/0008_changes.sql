-- The changes feed: one row per change to the directory, written in the
-- transaction of the change. SQLite has one writer at a time, so the
-- rowid (AUTOINCREMENT: never reused after a purge) orders records in
-- commit order and tx is always 0. Times are Unix microseconds.
CREATE TABLE changes (
	seq         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	tx          INTEGER NOT NULL DEFAULT 0,
	org_id      TEXT    NOT NULL,
	type        TEXT    NOT NULL,
	resource_id TEXT,
	version     INTEGER,
	resource    TEXT,
	attributes  TEXT,
	group_id    TEXT,
	user_id     TEXT,
	source      TEXT    NOT NULL,
	run_id      TEXT,
	request_id  TEXT,
	time        INTEGER NOT NULL
);
CREATE INDEX changes_org_position ON changes (org_id, seq);
CREATE INDEX changes_time ON changes (time);

-- The highest position the retention purge deleted: a cursor below it may
-- have missed records.
CREATE TABLE changes_purged (
	id  INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	tx  INTEGER NOT NULL,
	seq INTEGER NOT NULL
);
