-- The schema bench/pgbench-post.sh gives pgbench: the profiles and events
-- tables as scimbridge creates them (store/migrations/postgres), with only
-- the indexes the contract requires (PRODUCT.md, Identity and uniqueness):
-- the primary keys and the three unique keys among non-detached profiles.
-- No organizations table, no foreign key, no email rows: the floor a SCIM
-- POST's write is compared with.

CREATE TABLE profiles (
	id                 TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	org_id             TEXT COLLATE "C" NOT NULL ,
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
