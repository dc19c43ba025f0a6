-- Admin operations: the events pages the admin API and the console filter,
-- the directory's search, person erasure and a report's items by kind.
--
-- Events pages are newest first (ORDER BY id DESC). A page filtered by
-- status class is one backward range scan of (org_id, status / 100, id);
-- one filtered by target username, with or without a status class, one of
-- (org_id, target_username_key, status / 100, id) (a username alone reads
-- that person's events and sorts them). Events without a target username
-- (401s, listings) stay out of the second index. Queries write the class
-- as the same expression, status / 100.
CREATE INDEX events_org_class ON events (org_id, (status / 100), id);
CREATE INDEX events_org_user_class ON events (org_id, target_username_key, (status / 100), id)
	WHERE target_username_key IS NOT NULL;

-- The directory searches userName, email and displayName by
-- case-insensitive prefix: a range of each key column among live profiles.
-- userName and email have their live unique indexes; displayName gets one
-- on its first 200 characters: a displayName may hold 4,096 bytes, more
-- than a PostgreSQL index row takes (2,704), and a search longer than 200
-- characters tests the rest on the rows that range finds.
CREATE INDEX profiles_org_display_name_key_live ON profiles (org_id, substr(display_name_key, 1, 200))
	WHERE detached_at IS NULL;
-- The directory filtered by source or state reads each (source, state)
-- pair it keeps as one range in id order and merges them: a rare source
-- or state costs what a common one does.
CREATE INDEX profiles_org_source_state_live ON profiles (org_id, source, state, id)
	WHERE detached_at IS NULL;

-- erased_at marks a profile whose personal attributes were erased (a
-- tombstone: the id stays, every personal value is NULL).
ALTER TABLE profiles ADD COLUMN erased_at TIMESTAMPTZ;

-- A report's items filtered by kind, paged by position.
ALTER TABLE report_items ADD COLUMN kind TEXT COLLATE "C";
UPDATE report_items SET kind = item::json->>'kind';
CREATE INDEX report_items_kind ON report_items (report_id, kind, position);
