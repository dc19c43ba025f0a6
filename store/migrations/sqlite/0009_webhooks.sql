-- Webhook endpoints, their delivery state, leases, attempts and kept
-- messages. Secrets are sealed (internal/seal, the organization id as
-- associated data); cursor_tx and cursor_seq are the position of the last
-- change delivered or passed over.
CREATE TABLE webhook_endpoints (
	id                     TEXT NOT NULL PRIMARY KEY,
	org_id                 TEXT NOT NULL REFERENCES organizations (id),
	url                    TEXT NOT NULL,
	types                  TEXT NOT NULL,
	enabled                INTEGER NOT NULL,
	batch                  INTEGER NOT NULL,
	on_reject              TEXT NOT NULL,
	sealed_secret          BLOB NOT NULL,
	sealed_previous_secret BLOB,
	previous_expires_at    INTEGER,
	disabled_reason        TEXT,
	created_at             INTEGER NOT NULL,
	updated_at             INTEGER NOT NULL,
	cursor_tx              INTEGER NOT NULL,
	cursor_seq             INTEGER NOT NULL,
	attempts               INTEGER NOT NULL,
	failing_since          INTEGER,
	next_attempt_at        INTEGER
) STRICT;
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id, created_at);

-- One replica delivers an endpoint at a time: the holder of its lease.
CREATE TABLE webhook_leases (
	endpoint_id TEXT NOT NULL PRIMARY KEY REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
	holder      TEXT NOT NULL,
	expires_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE webhook_attempts (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
	org_id      TEXT NOT NULL,
	message_id  TEXT NOT NULL,
	first_tx    INTEGER NOT NULL,
	first_seq   INTEGER NOT NULL,
	last_tx     INTEGER NOT NULL,
	last_seq    INTEGER NOT NULL,
	changes     INTEGER NOT NULL,
	time        INTEGER NOT NULL,
	status      INTEGER NOT NULL,
	duration_us INTEGER NOT NULL,
	outcome     TEXT NOT NULL,
	response    TEXT,
	error       TEXT,
	redelivery  INTEGER NOT NULL
) STRICT;
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id);
CREATE INDEX webhook_attempts_time ON webhook_attempts (time);

-- Messages kept apart from an endpoint's stream: set aside after repeated
-- rejections, or queued for redelivery. body is what is signed.
CREATE TABLE webhook_messages (
	id          TEXT NOT NULL,
	endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
	org_id      TEXT NOT NULL,
	first_tx    INTEGER NOT NULL,
	first_seq   INTEGER NOT NULL,
	last_tx     INTEGER NOT NULL,
	last_seq    INTEGER NOT NULL,
	changes     INTEGER NOT NULL,
	body        BLOB NOT NULL,
	state       TEXT NOT NULL,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	PRIMARY KEY (endpoint_id, id)
) STRICT;
