-- One index per lookup. Live (non-detached) rows are found through the
-- partial unique indexes that enforce identity; the rows those skip
-- (detached profiles, and the externalId of profiles other than live SCIM
-- ones) have their own partial indexes, which a live write never touches.
-- Those lead with the key, so no query by organization alone can use them.
-- The full copies of each key, and the (org_id, source, detached_at),
-- created and updated indexes no query needs, are dropped: every write paid
-- for them, and an un-analysed planner picked them over the key indexes.
DROP INDEX profiles_org_user_name_key;
DROP INDEX profiles_org_email_key;
DROP INDEX profiles_org_google_id;
DROP INDEX profiles_org_external_id;
DROP INDEX profiles_org_source;
DROP INDEX profiles_org_created;
DROP INDEX profiles_org_updated;
CREATE INDEX profiles_user_name_key_detached ON profiles (user_name_key, org_id)
	WHERE detached_at IS NOT NULL;
CREATE INDEX profiles_email_key_detached ON profiles (email_key, org_id)
	WHERE detached_at IS NOT NULL;
CREATE INDEX profiles_google_id_detached ON profiles (google_id, org_id)
	WHERE detached_at IS NOT NULL;
CREATE INDEX profiles_external_id_other ON profiles (external_id, org_id)
	WHERE external_id IS NOT NULL AND (source <> 'scim' OR detached_at IS NOT NULL);
-- No statistics on profiles.org_id: the planner then takes any organization
-- for a small share of the table, never for one row. With per-value
-- statistics an organization created after the last ANALYZE looked empty,
-- and its lookups walked (org_id, id) in id order instead of the key index.
ALTER TABLE profiles ALTER COLUMN org_id SET STATISTICS 0;
