-- Placeholder for version 4, which another change adds; it is dropped when
-- that change is merged.
SELECT 1;
