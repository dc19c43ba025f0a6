-- pgbench custom script: the write of one SCIM POST as ApplyChange commits it
-- (a profile, its one email and its event in one transaction), to compare
-- with BenchmarkApplyChange/postgres.
--
-- On a migrated database (scimbridge migrate, or a clone of the test
-- template scimbridge_template_<version>):
--   psql -d DB -c "INSERT INTO organizations (id, slug, name, adopt_existing, created_at)
--     VALUES ('00000000-0000-0000-0000-00000000b0b0', 'bench', 'Bench', true, now())"
--   pgbench -n -c 1 -T 10 -f store/testdata/pgbench_insert.sql DB
-- (simple protocol, the default: -M prepared cannot type the :n parameters).
-- Every transaction inserts a new user: n is random over 63 bits, and id,
-- userName and externalId derive from it.

\set n random(1, 9000000000000000000)
BEGIN;
INSERT INTO profiles (id, org_id, user_name, user_name_key, email, email_key, display_name,
	given_name, family_name, department, external_id, state, source, version, role,
	access_revoked, created_at, updated_at)
VALUES (md5(:n::text)::uuid::text, '00000000-0000-0000-0000-00000000b0b0',
	'user' || :n || '@bench.example', 'user' || :n || '@bench.example',
	'user' || :n || '@bench.example', 'user' || :n || '@bench.example', 'User ' || :n,
	'User', :n::text, 'Engineering', 'ext-' || :n, 'active', 'scim', 1, 'member',
	false, now(), now());
INSERT INTO profile_emails (profile_id, org_id, position, value, value_key, type, display, is_primary)
VALUES (md5(:n::text)::uuid::text, '00000000-0000-0000-0000-00000000b0b0', 0,
	'user' || :n || '@bench.example', 'user' || :n || '@bench.example', 'work', NULL, true);
INSERT INTO events (org_id, time, method, path, status, target_username, target_username_key,
	client_ip, user_agent, request_id, duration_us, source, kind, profile_id,
	request_body, response_body, request_truncated, response_truncated, count)
VALUES ('00000000-0000-0000-0000-00000000b0b0', now(), 'POST', '/api/connect/v1/Users', 201,
	'user' || :n || '@bench.example', 'user' || :n || '@bench.example', '127.0.0.1', 'bench',
	md5(:n::text)::uuid::text, 1000, 'idp', 'create', md5(:n::text)::uuid::text,
	'{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"user' || :n || '@bench.example"}',
	'{"id":"' || md5(:n::text)::uuid::text || '","userName":"user' || :n || '@bench.example"}',
	false, false, 1);
END;
