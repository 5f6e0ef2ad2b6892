-- The night being appended, read once from its Parquet file: the few columns the history and
-- the per-night facts need, and a hash of each record's content (all but when it was read),
-- so a record equal to the one `tasks` holds needs no merge (tasks_seen_again.sql). The wide
-- rows stay in the file until night_changed.sql takes the records that did change.
CREATE OR REPLACE TEMP TABLE night AS
SELECT
    file_row_number,
    export_date,
    exported_at,
    task_id,
    status,
    from_mongodb,
    batch_id,
    current_tier,
    total_tiers,
    object_count,
    hash(*COLUMNS(* EXCLUDE (export_date, exported_at, file_row_number))) AS record_hash
FROM read_parquet($tasks_path, file_row_number = true);

-- An export lists each task once (the blocking check task_ids_unique guards it); should a file
-- list a task twice all the same, the row read later wins, and of two read at the same
-- instant the later-listed one, so a re-run keeps the same row.
DELETE FROM night
WHERE file_row_number NOT IN (
    SELECT max_by(file_row_number, (exported_at, file_row_number)) FROM night GROUP BY task_id
);
