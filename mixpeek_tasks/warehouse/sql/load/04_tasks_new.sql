-- The night's tasks that `tasks` has never seen: a record is then the task's whole story, so
-- it becomes its row as it is, straight from the night's file, without the merge (on a first
-- load, every task; on a nightly account, the night's new tasks). The same row
-- 06_tasks_merge.sql would give a task of one record.
INSERT INTO tasks BY NAME
SELECT
    p.* EXCLUDE (file_row_number, export_date, exported_at, status),
    n.record_hash,
    h.status,
    p.status AS reported_status,
    p.exported_at AS first_seen_at,
    p.exported_at AS last_seen_at,
    n.observation_id AS first_observation,
    n.observation_id AS last_observation,
    CASE WHEN p.from_mongodb IS NOT TRUE THEN n.observation_id END
        AS last_full_record_observation,
    CAST(1 AS BIGINT) AS snapshots,
    CAST(to_json(p.collection_ids) AS VARCHAR) AS collection_ids_json,
    CAST(to_json(p.sample_object_ids) AS VARCHAR) AS sample_object_ids_json,
    CAST(to_json(p.flatten_issues) AS VARCHAR) AS flatten_issues_json
FROM read_parquet($tasks_path, file_row_number = true, hive_partitioning = false) AS p
JOIN night AS n USING (file_row_number)
JOIN task_status_intervals AS h ON h.task_id = n.task_id AND h.valid_to IS NULL
WHERE NOT n.known;
