-- The ids of the encryption keys that sealed the secrets stored here, so a
-- process lacking one of them refuses to start instead of failing later.
CREATE TABLE sealing_keys (
	key_id TEXT NOT NULL PRIMARY KEY
) STRICT;

-- Bridges sealed before this table existed: the key id is bytes 2 to 5 of
-- a sealed value of format version 1 (internal/seal).
INSERT INTO sealing_keys (key_id)
	SELECT DISTINCT lower(hex(substr(sealed_credentials, 2, 4))) FROM bridges
	WHERE length(sealed_credentials) >= 5 AND substr(sealed_credentials, 1, 1) = x'01';
