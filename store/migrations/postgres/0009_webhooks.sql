-- Webhook endpoints, their delivery state, leases, attempts and kept
-- messages. Secrets are sealed (internal/seal, the organization id as
-- associated data); cursor_tx and cursor_seq are the position of the last
-- change delivered or passed over.
CREATE TABLE webhook_endpoints (
	id                     TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	org_id                 TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
	url                    TEXT NOT NULL,
	types                  TEXT NOT NULL,
	enabled                BOOLEAN NOT NULL,
	batch                  INTEGER NOT NULL,
	on_reject              TEXT NOT NULL,
	sealed_secret          BYTEA NOT NULL,
	sealed_previous_secret BYTEA,
	previous_expires_at    TIMESTAMPTZ,
	disabled_reason        TEXT,
	created_at             TIMESTAMPTZ NOT NULL,
	updated_at             TIMESTAMPTZ NOT NULL,
	cursor_tx              BIGINT NOT NULL,
	cursor_seq             BIGINT NOT NULL,
	attempts               INTEGER NOT NULL,
	failing_since          TIMESTAMPTZ,
	next_attempt_at        TIMESTAMPTZ
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id, created_at);

-- One replica delivers an endpoint at a time: the holder of its lease.
CREATE TABLE webhook_leases (
	endpoint_id TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
	holder      TEXT NOT NULL,
	expires_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE webhook_attempts (
	id          BIGSERIAL PRIMARY KEY,
	endpoint_id TEXT COLLATE "C" NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
	org_id      TEXT COLLATE "C" NOT NULL,
	message_id  TEXT COLLATE "C" NOT NULL,
	first_tx    BIGINT NOT NULL,
	first_seq   BIGINT NOT NULL,
	last_tx     BIGINT NOT NULL,
	last_seq    BIGINT NOT NULL,
	changes     INTEGER NOT NULL,
	time        TIMESTAMPTZ NOT NULL,
	status      INTEGER NOT NULL,
	duration_us BIGINT NOT NULL,
	outcome     TEXT NOT NULL,
	response    TEXT,
	error       TEXT,
	redelivery  BOOLEAN NOT NULL
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id);
CREATE INDEX webhook_attempts_time ON webhook_attempts (time);

-- Messages kept apart from an endpoint's stream: set aside after repeated
-- rejections, or queued for redelivery. body is what is signed.
CREATE TABLE webhook_messages (
	id          TEXT COLLATE "C" NOT NULL,
	endpoint_id TEXT COLLATE "C" NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
	org_id      TEXT COLLATE "C" NOT NULL,
	first_tx    BIGINT NOT NULL,
	first_seq   BIGINT NOT NULL,
	last_tx     BIGINT NOT NULL,
	last_seq    BIGINT NOT NULL,
	changes     INTEGER NOT NULL,
	body        BYTEA NOT NULL,
	state       TEXT NOT NULL,
	created_at  TIMESTAMPTZ NOT NULL,
	updated_at  TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (endpoint_id, id)
);
