-- Web console: one-time setup links and server-side sessions. Only the
-- SHA-256 of a link's or session's token is stored. A session stands on an
-- admin token or a setup link and ends when it is revoked.
CREATE TABLE setup_links (
	id         TEXT    NOT NULL PRIMARY KEY,
	org_id     TEXT    NOT NULL REFERENCES organizations (id),
	role       TEXT    NOT NULL,
	token_hash BLOB    NOT NULL,
	created_by TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at    INTEGER,
	revoked_at INTEGER
) STRICT;
CREATE UNIQUE INDEX setup_links_token_hash ON setup_links (token_hash);
CREATE INDEX setup_links_org ON setup_links (org_id, created_at);

CREATE TABLE console_sessions (
	id             TEXT    NOT NULL PRIMARY KEY,
	org_id         TEXT    NOT NULL REFERENCES organizations (id),
	role           TEXT    NOT NULL,
	token_hash     BLOB    NOT NULL,
	admin_token_id TEXT    REFERENCES admin_tokens (id),
	setup_link_id  TEXT    REFERENCES setup_links (id),
	created_at     INTEGER NOT NULL,
	last_seen_at   INTEGER NOT NULL,
	ended_at       INTEGER
) STRICT;
CREATE UNIQUE INDEX console_sessions_token_hash ON console_sessions (token_hash);
CREATE INDEX console_sessions_setup_link ON console_sessions (setup_link_id) WHERE setup_link_id IS NOT NULL;

-- The overview's events per hour by status class reads one organization's
-- last day from this index alone: it extends (org_id, time), which every
-- time-bounded events query used, so events keep the same number of
-- indexes.
DROP INDEX events_org_time;
CREATE INDEX events_org_time ON events (org_id, time, status, count);
