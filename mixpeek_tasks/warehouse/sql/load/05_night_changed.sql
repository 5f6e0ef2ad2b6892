-- The night's records of known tasks that changed (tasks_seen_again.sql moved the unchanged
-- ones, tasks_new.sql added the tasks never seen), whole, from the night's file: what
-- tasks_merge.sql merges. On a nightly account a small share of the night.
CREATE OR REPLACE TEMP TABLE changed AS
SELECT p.* EXCLUDE (file_row_number, export_date), n.observation_id, n.record_hash
FROM read_parquet($tasks_path, file_row_number = true, hive_partitioning = false) AS p
JOIN night AS n USING (file_row_number)
WHERE n.known AND n.known_hash <> n.record_hash;
