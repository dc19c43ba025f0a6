-- The changes feed (PRODUCT.md, "Directory API: changes feed and
-- webhooks"): one row per change to the directory, written in the
-- transaction of the change. A record's position is (tx, seq): tx is the
-- writing transaction's id, seq a sequence value (a sequence never makes
-- writers wait for one another). A reader returns only records whose tx is
-- below the oldest transaction still in progress, so a transaction that
-- took a lower position and commits late is never passed.
CREATE TABLE changes (
	tx          BIGINT      NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
	seq         BIGSERIAL   NOT NULL,
	org_id      TEXT        NOT NULL,
	type        TEXT        NOT NULL,
	resource_id TEXT,
	version     BIGINT,
	resource    TEXT,
	attributes  TEXT,
	group_id    TEXT,
	user_id     TEXT,
	source      TEXT        NOT NULL,
	run_id      TEXT,
	request_id  TEXT,
	time        TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tx, seq)
);
CREATE INDEX changes_org_position ON changes (org_id, tx, seq);
-- The retention purge finds old records by time; records are appended in
-- roughly time order, so a BRIN index serves it at almost no cost to writes.
CREATE INDEX changes_time ON changes USING brin (time);

-- The highest position the retention purge deleted: a cursor below it may
-- have missed records.
CREATE TABLE changes_purged (
	id  INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	tx  BIGINT  NOT NULL,
	seq BIGINT  NOT NULL
);
