-- The ids of the encryption keys that sealed the secrets stored here, so a
-- process lacking one of them refuses to start instead of failing later.
CREATE TABLE sealing_keys (
	key_id TEXT NOT NULL PRIMARY KEY
);

-- Bridges sealed before this table existed: the key id is bytes 2 to 5 of
-- a sealed value of format version 1 (internal/seal).
INSERT INTO sealing_keys (key_id)
	SELECT DISTINCT encode(substring(sealed_credentials FROM 2 FOR 4), 'hex') FROM bridges
	WHERE length(sealed_credentials) >= 5 AND substring(sealed_credentials FROM 1 FOR 1) = '\x01'::bytea;
