-- When each export date's run read the API (a page's read time; the last page's is `as_of`).
CREATE OR REPLACE VIEW export_runs AS
SELECT export_date, started_at, as_of
FROM export_nights;
