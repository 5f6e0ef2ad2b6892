-- When each export date's run read the API (a page's read time; the last page's is `as_of`).
CREATE OR REPLACE VIEW export_runs AS
SELECT export_date, min(exported_at) AS started_at, max(exported_at) AS as_of
FROM task_snapshots
GROUP BY export_date;
