-- The night being appended, read once from its Parquet file for every statement of the load,
-- with a hash of each record's content (all but when it was read): a record equal to the one
-- `tasks` holds needs no merge (tasks_seen_again.sql).
CREATE OR REPLACE TEMP TABLE night AS
SELECT *, hash(*COLUMNS(* EXCLUDE (export_date, exported_at))) AS record_hash
FROM read_parquet($tasks_path);

-- An export lists each task once (the blocking check task_ids_unique guards it); should a file
-- list a task twice all the same, the row read later wins, and of two read at the same
-- instant the later-listed one (rows keep the file's order), so a re-run keeps the same row.
DELETE FROM night
WHERE rowid NOT IN (SELECT max_by(rowid, (exported_at, rowid)) FROM night GROUP BY task_id);
