-- phoneNumbers and addresses are kept as sent, each as one JSON array in a
-- TEXT column (NULL when empty): they are read and written only with their
-- profile, never filtered, sorted or unique, so child tables would only add
-- a statement to every read and write. display_name_key holds
-- textkey.Key(display_name) so displayName filters compare
-- case-insensitively, like userName; the migration runner fills it for
-- existing rows in Go (lower() differs between the databases and from textkey).
ALTER TABLE profiles ADD COLUMN display_name_key TEXT;
ALTER TABLE profiles ADD COLUMN phone_numbers TEXT;
ALTER TABLE profiles ADD COLUMN addresses TEXT;
