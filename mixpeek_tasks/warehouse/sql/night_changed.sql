-- The night's records that tasks_seen_again.sql did not take (new tasks, changed records),
-- whole, from the night's file: what tasks_merge.sql merges. On a nightly account a small
-- share of the night; on a first load, all of it.
CREATE OR REPLACE TEMP TABLE changed AS
SELECT p.* EXCLUDE (file_row_number), n.record_hash
FROM read_parquet($tasks_path, file_row_number = true) AS p
JOIN night AS n USING (file_row_number)
WHERE n.task_id NOT IN (SELECT task_id FROM tasks WHERE last_export_date = $export_date);
