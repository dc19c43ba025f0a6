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
	id               TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	org_id           TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
	display_name     TEXT COLLATE "C" NOT NULL,
	display_name_key TEXT COLLATE "C" NOT NULL,
	external_id      TEXT COLLATE "C",
	source           TEXT COLLATE "C" NOT NULL,
	google_id        TEXT COLLATE "C",
	desired_hash     TEXT COLLATE "C",
	version          BIGINT NOT NULL,
	created_at       TIMESTAMPTZ NOT NULL,
	updated_at       TIMESTAMPTZ NOT NULL
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
	org_id     TEXT COLLATE "C" NOT NULL,
	group_id   TEXT COLLATE "C" NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	profile_id TEXT COLLATE "C" NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
	PRIMARY KEY (group_id, profile_id)
);
CREATE INDEX group_members_profile ON group_members (profile_id, group_id);
