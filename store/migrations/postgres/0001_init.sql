-- Initial schema (PostgreSQL). Times are timestamptz; bodies TEXT, never jsonb;
-- unassigned text attributes are NULL. Text that is ordered or compared by
-- range uses COLLATE "C", so ordering is binary as in SQLite.

CREATE TABLE organizations (
	id             TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	slug           TEXT COLLATE "C" NOT NULL,
	name           TEXT    NOT NULL,
	adopt_existing BOOLEAN NOT NULL DEFAULT TRUE,
	created_at     TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX organizations_slug ON organizations (slug);

CREATE TABLE profiles (
	id                 TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	org_id             TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
	user_name          TEXT COLLATE "C",
	user_name_key      TEXT COLLATE "C",
	email              TEXT COLLATE "C",
	email_key          TEXT COLLATE "C",
	display_name       TEXT COLLATE "C",
	title              TEXT COLLATE "C",
	user_type          TEXT COLLATE "C",
	given_name         TEXT COLLATE "C",
	family_name        TEXT COLLATE "C",
	formatted          TEXT COLLATE "C",
	middle_name        TEXT COLLATE "C",
	honorific_prefix   TEXT COLLATE "C",
	honorific_suffix   TEXT COLLATE "C",
	nick_name          TEXT COLLATE "C",
	locale             TEXT COLLATE "C",
	timezone           TEXT COLLATE "C",
	preferred_language TEXT COLLATE "C",
	profile_url        TEXT COLLATE "C",
	employee_number    TEXT COLLATE "C",
	department         TEXT COLLATE "C",
	cost_center        TEXT COLLATE "C",
	organization       TEXT COLLATE "C",
	division           TEXT COLLATE "C",
	manager            TEXT COLLATE "C",
	external_id        TEXT COLLATE "C",
	google_id          TEXT COLLATE "C",
	state              TEXT COLLATE "C" NOT NULL,
	source             TEXT COLLATE "C" NOT NULL,
	version            BIGINT NOT NULL,
	role               TEXT COLLATE "C",
	access_revoked     BOOLEAN NOT NULL DEFAULT FALSE,
	former_user_name   TEXT COLLATE "C",
	former_email       TEXT COLLATE "C",
	desired_hash       TEXT COLLATE "C",
	created_at         TIMESTAMPTZ NOT NULL,
	updated_at         TIMESTAMPTZ NOT NULL,
	deactivated_at     TIMESTAMPTZ,
	detached_at        TIMESTAMPTZ
);
CREATE UNIQUE INDEX profiles_org_user_name_key_live ON profiles (org_id, user_name_key) WHERE detached_at IS NULL;
CREATE UNIQUE INDEX profiles_org_email_key_live ON profiles (org_id, email_key) WHERE detached_at IS NULL;
CREATE UNIQUE INDEX profiles_org_external_id_scim ON profiles (org_id, external_id)
	WHERE source = 'scim' AND detached_at IS NULL AND external_id IS NOT NULL;
CREATE UNIQUE INDEX profiles_org_google_id_live ON profiles (org_id, google_id)
	WHERE google_id IS NOT NULL AND detached_at IS NULL;
CREATE INDEX profiles_org_id ON profiles (org_id, id);
CREATE INDEX profiles_org_external_id ON profiles (org_id, external_id);
CREATE INDEX profiles_org_source ON profiles (org_id, source, detached_at);
CREATE INDEX profiles_org_created ON profiles (org_id, created_at, id);
CREATE INDEX profiles_org_updated ON profiles (org_id, updated_at, id);
-- Lookups include detached profiles, which the partial unique indexes skip.
CREATE INDEX profiles_org_user_name_key ON profiles (org_id, user_name_key);
CREATE INDEX profiles_org_email_key ON profiles (org_id, email_key);
CREATE INDEX profiles_org_google_id ON profiles (org_id, google_id);

CREATE TABLE profile_emails (
	profile_id TEXT COLLATE "C" NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
	org_id     TEXT COLLATE "C" NOT NULL,
	position   INTEGER NOT NULL,
	value      TEXT COLLATE "C" NOT NULL,
	value_key  TEXT COLLATE "C" NOT NULL,
	type       TEXT COLLATE "C",
	display    TEXT COLLATE "C",
	is_primary BOOLEAN,
	PRIMARY KEY (profile_id, position)
);
CREATE INDEX profile_emails_org_value_key ON profile_emails (org_id, value_key);

CREATE TABLE events (
	id                  BIGSERIAL PRIMARY KEY,
	org_id              TEXT COLLATE "C",
	time                TIMESTAMPTZ NOT NULL,
	method              TEXT,
	path                TEXT,
	status              INTEGER NOT NULL,
	target_username     TEXT,
	target_username_key TEXT,
	client_ip           TEXT,
	user_agent          TEXT,
	request_id          TEXT,
	duration_us         BIGINT NOT NULL DEFAULT 0,
	source              TEXT,
	run_id              TEXT COLLATE "C",
	kind                TEXT,
	profile_id          TEXT COLLATE "C",
	error               TEXT,
	request_body        TEXT,
	response_body       TEXT,
	request_truncated   BOOLEAN NOT NULL DEFAULT FALSE,
	response_truncated  BOOLEAN NOT NULL DEFAULT FALSE,
	count               INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX events_org_id ON events (org_id, id);
CREATE INDEX events_org_time ON events (org_id, time);
CREATE INDEX events_time ON events (time);

CREATE TABLE scim_configs (
	org_id       TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES organizations (id),
	token_hash   BYTEA NOT NULL,
	created_at   TIMESTAMPTZ NOT NULL,
	rotated_at   TIMESTAMPTZ,
	last_used_at TIMESTAMPTZ
);

CREATE TABLE admin_tokens (
	id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	org_id       TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
	role         TEXT    NOT NULL,
	token_hash   BYTEA NOT NULL,
	prefix       TEXT,
	created_at   TIMESTAMPTZ NOT NULL,
	expires_at   TIMESTAMPTZ,
	revoked_at   TIMESTAMPTZ,
	last_used_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX admin_tokens_token_hash ON admin_tokens (token_hash);
CREATE INDEX admin_tokens_org ON admin_tokens (org_id, created_at);

CREATE TABLE bridges (
	org_id               TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES organizations (id),
	sealed_credentials   BYTEA,
	settings             TEXT    NOT NULL,
	last_sync_at         TIMESTAMPTZ,
	last_success_at      TIMESTAMPTZ,
	next_sync_at         TIMESTAMPTZ,
	consecutive_failures INTEGER NOT NULL DEFAULT 0,
	last_error           TEXT,
	needs_attention      BOOLEAN NOT NULL DEFAULT FALSE,
	created_at           TIMESTAMPTZ NOT NULL,
	updated_at           TIMESTAMPTZ NOT NULL
);

CREATE TABLE reports (
	id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	org_id      TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
	trigger     TEXT    NOT NULL,
	status      TEXT    NOT NULL,
	started_at  TIMESTAMPTZ NOT NULL,
	finished_at TIMESTAMPTZ,
	counts      TEXT    NOT NULL,
	error       TEXT,
	held_until  TIMESTAMPTZ
);
CREATE INDEX reports_org_started ON reports (org_id, started_at);

CREATE TABLE report_items (
	report_id TEXT COLLATE "C" NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
	position  INTEGER NOT NULL,
	item      TEXT    NOT NULL,
	PRIMARY KEY (report_id, position)
);

CREATE TABLE held_plans (
	org_id     TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES organizations (id),
	report_id  TEXT COLLATE "C" NOT NULL,
	plan       BYTEA NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE leases (
	org_id     TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES organizations (id),
	run_id     TEXT COLLATE "C" NOT NULL,
	holder     TEXT    NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL
);
