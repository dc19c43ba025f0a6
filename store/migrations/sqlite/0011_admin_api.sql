-- Admin tokens get a name (events name the actor with it); operator tokens
-- act on every organization, so they belong to none.
ALTER TABLE admin_tokens ADD COLUMN name TEXT;

CREATE TABLE operator_tokens (
	id           TEXT    NOT NULL PRIMARY KEY,
	name         TEXT,
	token_hash   BLOB    NOT NULL,
	prefix       TEXT,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER,
	revoked_at   INTEGER,
	last_used_at INTEGER
) STRICT;
CREATE UNIQUE INDEX operator_tokens_token_hash ON operator_tokens (token_hash);
