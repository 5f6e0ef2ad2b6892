-- The observation being appended (the "night"), read once from its Parquet file: the few columns the history and
-- the per-night facts need, a hash of each record's content (all but when it was read), and
-- whether `tasks` knows the task and with which record: a record equal to the one `tasks`
-- holds needs no merge (03_tasks_seen_again.sql), one it has never seen none either
-- (04_tasks_new.sql). The wide rows stay in the file until those that changed are merged.
-- Every later statement asks `night` whether a task is known instead of looking it up in
-- `tasks` (a hash table of every task id: over DuckDB's memory limit past a few hundred
-- thousand tasks); this join is built on the night's side.
CREATE OR REPLACE TEMP TABLE night AS
WITH listed AS (
    SELECT
        file_row_number,
        -- The observation's id, never the file's export_date (a label in an earlier tree).
        CAST($observation AS VARCHAR) AS observation_id,
        exported_at,
        task_id,
        status,
        from_mongodb,
        batch_id,
        current_tier,
        total_tiers,
        object_count,
        -- 63 bits of the UBIGINT hash, so the column is a BIGINT every BI driver reads.
        CAST(hash(*COLUMNS(* EXCLUDE (export_date, exported_at, file_row_number))) >> 1 AS BIGINT)
            AS record_hash
    FROM read_parquet($tasks_path, file_row_number = true, hive_partitioning = false)
)
SELECT listed.*, t.task_id IS NOT NULL AS known, t.record_hash AS known_hash
FROM listed
LEFT JOIN tasks AS t USING (task_id);

-- An export lists each task once (the blocking check task_ids_unique guards it); should a file
-- list a task twice all the same, the row read later wins, and of two read at the same
-- instant the later-listed one, so a re-run keeps the same row.
DELETE FROM night
WHERE file_row_number NOT IN (
    SELECT max_by(file_row_number, (exported_at, file_row_number)) FROM night GROUP BY task_id
);
