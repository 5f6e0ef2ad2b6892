-- The observation appended, counted once `tasks` and the history hold it: what the views need
-- per observation. Its full rows stay in its Parquet file (task_snapshots), and which tasks it
-- listed in which status is in task_status_history.observed_in. One row even for an
-- observation that listed nothing: a load says which observations it holds. Its listing times
-- are its manifest's (an earlier tree's: its files' read times), never a caller's label.
INSERT INTO export_nights BY NAME
SELECT
    CAST($observation AS VARCHAR) AS observation_id,
    CAST($observed_on AS DATE) AS observed_on,
    CAST($listing_started_at AS TIMESTAMPTZ) AS listing_started_at,
    CAST($listing_finished_at AS TIMESTAMPTZ) AS listing_finished_at,
    count(*) AS tasks_listed,
    count(*) FILTER (WHERE from_mongodb) AS fallback_records,
    CAST($folder AS VARCHAR) AS folder
FROM night;
