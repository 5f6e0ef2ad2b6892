-- The night appended, counted once `tasks` and the history hold it: what the views need per
-- night. Its full rows stay in its Parquet file (task_snapshots), and which tasks it listed in
-- which status is in task_status_history.observed_in. One row even for a night that listed
-- nothing (its read times are then unknown): a load says which nights it holds.
INSERT INTO export_nights BY NAME
SELECT
    CAST($export_date AS DATE) AS export_date,
    min(exported_at) AS started_at,
    max(exported_at) AS as_of,
    count(*) AS tasks_listed,
    count(*) FILTER (WHERE from_mongodb) AS fallback_records
FROM night;
