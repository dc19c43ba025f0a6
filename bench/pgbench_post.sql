-- pgbench script: the rows of one SCIM POST with nothing else, one
-- profile-sized row and one event-sized row in one transaction, against
-- the schema of bench/pgbench_post_schema.sql (run by bench/pgbench-post.sh).
-- Every transaction inserts a new user: n is random over 63 bits, and id,
-- userName, email and externalId derive from it.

\set n random(1, 9000000000000000000)
BEGIN;
INSERT INTO profiles (id, org_id, user_name, user_name_key, email, email_key, display_name,
	given_name, family_name, locale, external_id, state, source, version, role,
	access_revoked, desired_hash, created_at, updated_at)
VALUES (md5(:n::text)::uuid::text, '00000000-0000-0000-0000-00000000b0b0',
	'load.' || :n || '@example.com', 'load.' || :n || '@example.com',
	'load.' || :n || '@example.com', 'load.' || :n || '@example.com', 'Load User',
	'Load', 'User ' || :n, 'en-US', '00u' || :n, 'active', 'scim', 1, 'member',
	false, md5(:n::text), now(), now());
INSERT INTO events (org_id, time, method, path, status, target_username, target_username_key,
	client_ip, user_agent, request_id, duration_us, source, kind, profile_id,
	request_body, response_body, request_truncated, response_truncated, count)
VALUES ('00000000-0000-0000-0000-00000000b0b0', now(), 'POST', '/api/connect/v1/Users', 201,
	'load.' || :n || '@example.com', 'load.' || :n || '@example.com', '127.0.0.1', 'Okta SCIM Client 1.0.0',
	md5(:n::text)::uuid::text, 1000, 'idp', 'create', md5(:n::text)::uuid::text,
	'{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"load.' || :n || '@example.com","name":{"givenName":"Load","familyName":"User ' || :n || '"},"emails":[{"primary":true,"value":"load.' || :n || '@example.com","type":"work"}],"displayName":"Load User","locale":"en-US","externalId":"00u' || :n || '","groups":[],"password":"[REDACTED]","active":true}',
	'{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"' || md5(:n::text)::uuid::text || '","userName":"load.' || :n || '@example.com","name":{"givenName":"Load","familyName":"User ' || :n || '"},"displayName":"Load User","locale":"en-US","externalId":"00u' || :n || '","active":true,"emails":[{"value":"load.' || :n || '@example.com","type":"work","primary":true}],"meta":{"resourceType":"User","created":"2026-01-01T00:00:00Z","lastModified":"2026-01-01T00:00:00Z","version":"W/\"1\"","location":"http://127.0.0.1/api/connect/v1/Users/' || md5(:n::text)::uuid::text || '"}}',
	false, false, 1);
END;
