-- Placeholder for migration 0004, which another change introduces; drop
-- this file when that migration is merged.
SELECT 1;
