-- Admin tokens get a name (events name the actor with it); operator tokens
-- act on every organization, so they belong to none.
ALTER TABLE admin_tokens ADD COLUMN name TEXT;

CREATE TABLE operator_tokens (
	id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	name         TEXT,
	token_hash   BYTEA NOT NULL,
	prefix       TEXT,
	created_at   TIMESTAMPTZ NOT NULL,
	expires_at   TIMESTAMPTZ,
	revoked_at   TIMESTAMPTZ,
	last_used_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX operator_tokens_token_hash ON operator_tokens (token_hash);
