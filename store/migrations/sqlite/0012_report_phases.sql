-- phases records where a bridge run's time went (listing, planning and
-- applying seconds, pages and changes a second) as one JSON object, NULL
-- for reports written before runs recorded it: it is read and written only
-- with its report.
ALTER TABLE reports ADD COLUMN phases TEXT;

-- The guard counts the deactivations and reactivations of the trailing 24
-- hours: an index of those events alone keeps that count from reading the
-- window's every event (a first sync writes one per user) and costs the
-- other events' inserts nothing.
CREATE INDEX events_org_guard_time ON events (org_id, time)
	WHERE kind IN ('deactivate', 'reactivate');
