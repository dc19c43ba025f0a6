-- phases records where a bridge run's time went (listing, planning and
-- applying seconds, pages and changes a second) as one JSON object, NULL
-- for reports written before runs recorded it: it is read and written only
-- with its report.
ALTER TABLE reports ADD COLUMN phases TEXT;
