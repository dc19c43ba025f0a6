-- Groups and their direct members. display_name_key is the Go-computed
-- case-insensitive key of displayName (internal/textkey), unique among an
-- organization's SCIM groups only: Google group names may repeat, and
-- Google groups are matched by google_id. A full index on the key serves
-- the displayName filter whatever the source. Memberships are indexed both
-- ways: by group (the primary key, which also pages a group's members in
-- profile id order) and by profile (a user's groups, a detach).
-- desired_hash is, as for profiles, the hash of what the bridge last
-- applied (name and member set), so an unchanged group is not written.
CREATE TABLE groups (
	id               TEXT    NOT NULL PRIMARY KEY,
	org_id           TEXT    NOT NULL REFERENCES organizations (id),
	display_name     TEXT    NOT NULL,
	display_name_key TEXT    NOT NULL,
	external_id      TEXT,
	source           TEXT    NOT NULL,
	google_id        TEXT,
	desired_hash     TEXT,
	version          INTEGER NOT NULL,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL
);
CREATE INDEX groups_org_id ON groups (org_id, id);
CREATE UNIQUE INDEX groups_org_display_name_key_scim ON groups (org_id, display_name_key)
	WHERE source = 'scim';
CREATE INDEX groups_org_display_name_key ON groups (org_id, display_name_key);
CREATE INDEX groups_org_external_id ON groups (org_id, external_id)
	WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX groups_org_google_id ON groups (org_id, google_id)
	WHERE google_id IS NOT NULL;

CREATE TABLE group_members (
	org_id     TEXT NOT NULL,
	group_id   TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	profile_id TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
	PRIMARY KEY (group_id, profile_id)
);
CREATE INDEX group_members_profile ON group_members (profile_id, group_id);
