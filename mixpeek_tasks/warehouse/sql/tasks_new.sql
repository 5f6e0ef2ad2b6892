-- The night's tasks that `tasks` has never seen: a record is then the task's whole story, so
-- it becomes its row as it is, without the merge (on a first load, every task; on a nightly
-- account, the night's new tasks). The same row tasks_merge.sql would give a task of one
-- record. They leave `changed`, which tasks_merge.sql merges next.
INSERT INTO tasks BY NAME
SELECT
    c.* EXCLUDE (export_date, exported_at, status),
    h.status,
    c.status AS reported_status,
    c.exported_at AS first_seen_at,
    c.exported_at AS last_seen_at,
    c.export_date AS first_export_date,
    c.export_date AS last_export_date,
    CASE WHEN c.from_mongodb IS NOT TRUE THEN c.export_date END AS last_full_record_date,
    CAST(1 AS BIGINT) AS snapshots
FROM changed AS c
JOIN task_status_intervals AS h ON h.task_id = c.task_id AND h.valid_to IS NULL
WHERE c.task_id NOT IN (SELECT task_id FROM tasks);

DELETE FROM changed
WHERE task_id IN (SELECT task_id FROM tasks WHERE last_export_date = $export_date);
