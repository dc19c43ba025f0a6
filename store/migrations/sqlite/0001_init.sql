-- Initial schema (SQLite). Times are INTEGER Unix microseconds UTC; booleans
-- are INTEGER 0/1; unassigned text attributes are NULL.

CREATE TABLE organizations (
	id             TEXT    NOT NULL PRIMARY KEY,
	slug           TEXT    NOT NULL,
	name           TEXT    NOT NULL,
	adopt_existing INTEGER NOT NULL DEFAULT 1,
	created_at     INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX organizations_slug ON organizations (slug);

CREATE TABLE profiles (
	id                 TEXT    NOT NULL PRIMARY KEY,
	org_id             TEXT    NOT NULL REFERENCES organizations (id),
	user_name          TEXT,
	user_name_key      TEXT,
	email              TEXT,
	email_key          TEXT,
	display_name       TEXT,
	title              TEXT,
	user_type          TEXT,
	given_name         TEXT,
	family_name        TEXT,
	formatted          TEXT,
	middle_name        TEXT,
	honorific_prefix   TEXT,
	honorific_suffix   TEXT,
	nick_name          TEXT,
	locale             TEXT,
	timezone           TEXT,
	preferred_language TEXT,
	profile_url        TEXT,
	employee_number    TEXT,
	department         TEXT,
	cost_center        TEXT,
	organization       TEXT,
	division           TEXT,
	manager            TEXT,
	external_id        TEXT,
	google_id          TEXT,
	state              TEXT    NOT NULL,
	source             TEXT    NOT NULL,
	version            INTEGER NOT NULL,
	role               TEXT,
	access_revoked     INTEGER NOT NULL DEFAULT 0,
	former_user_name   TEXT,
	former_email       TEXT,
	desired_hash       TEXT,
	created_at         INTEGER NOT NULL,
	updated_at         INTEGER NOT NULL,
	deactivated_at     INTEGER,
	detached_at        INTEGER
) STRICT;
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
	profile_id TEXT    NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
	org_id     TEXT    NOT NULL,
	position   INTEGER NOT NULL,
	value      TEXT    NOT NULL,
	value_key  TEXT    NOT NULL,
	type       TEXT,
	display    TEXT,
	is_primary INTEGER,
	PRIMARY KEY (profile_id, position)
) STRICT;
CREATE INDEX profile_emails_org_value_key ON profile_emails (org_id, value_key);

CREATE TABLE events (
	id                  INTEGER PRIMARY KEY AUTOINCREMENT,
	org_id              TEXT,
	time                INTEGER NOT NULL,
	method              TEXT,
	path                TEXT,
	status              INTEGER NOT NULL,
	target_username     TEXT,
	target_username_key TEXT,
	client_ip           TEXT,
	user_agent          TEXT,
	request_id          TEXT,
	duration_us         INTEGER NOT NULL DEFAULT 0,
	source              TEXT,
	run_id              TEXT,
	kind                TEXT,
	profile_id          TEXT,
	error               TEXT,
	request_body        TEXT,
	response_body       TEXT,
	request_truncated   INTEGER NOT NULL DEFAULT 0,
	response_truncated  INTEGER NOT NULL DEFAULT 0,
	count               INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX events_org_id ON events (org_id, id);
CREATE INDEX events_org_time ON events (org_id, time);
CREATE INDEX events_time ON events (time);

CREATE TABLE scim_configs (
	org_id       TEXT    NOT NULL PRIMARY KEY REFERENCES organizations (id),
	token_hash   BLOB    NOT NULL,
	created_at   INTEGER NOT NULL,
	rotated_at   INTEGER,
	last_used_at INTEGER
) STRICT;

CREATE TABLE admin_tokens (
	id           TEXT    NOT NULL PRIMARY KEY,
	org_id       TEXT    NOT NULL REFERENCES organizations (id),
	role         TEXT    NOT NULL,
	token_hash   BLOB    NOT NULL,
	prefix       TEXT,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER,
	revoked_at   INTEGER,
	last_used_at INTEGER
) STRICT;
CREATE UNIQUE INDEX admin_tokens_token_hash ON admin_tokens (token_hash);
CREATE INDEX admin_tokens_org ON admin_tokens (org_id, created_at);

CREATE TABLE bridges (
	org_id               TEXT    NOT NULL PRIMARY KEY REFERENCES organizations (id),
	sealed_credentials   BLOB,
	settings             TEXT    NOT NULL,
	last_sync_at         INTEGER,
	last_success_at      INTEGER,
	next_sync_at         INTEGER,
	consecutive_failures INTEGER NOT NULL DEFAULT 0,
	last_error           TEXT,
	needs_attention      INTEGER NOT NULL DEFAULT 0,
	created_at           INTEGER NOT NULL,
	updated_at           INTEGER NOT NULL
) STRICT;

CREATE TABLE reports (
	id          TEXT    NOT NULL PRIMARY KEY,
	org_id      TEXT    NOT NULL REFERENCES organizations (id),
	trigger     TEXT    NOT NULL,
	status      TEXT    NOT NULL,
	started_at  INTEGER NOT NULL,
	finished_at INTEGER,
	counts      TEXT    NOT NULL,
	error       TEXT,
	held_until  INTEGER
) STRICT;
CREATE INDEX reports_org_started ON reports (org_id, started_at);

CREATE TABLE report_items (
	report_id TEXT    NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
	position  INTEGER NOT NULL,
	item      TEXT    NOT NULL,
	PRIMARY KEY (report_id, position)
) STRICT;

CREATE TABLE held_plans (
	org_id     TEXT    NOT NULL PRIMARY KEY REFERENCES organizations (id),
	report_id  TEXT    NOT NULL,
	plan       BLOB    NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;

CREATE TABLE leases (
	org_id     TEXT    NOT NULL PRIMARY KEY REFERENCES organizations (id),
	run_id     TEXT    NOT NULL,
	holder     TEXT    NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;
