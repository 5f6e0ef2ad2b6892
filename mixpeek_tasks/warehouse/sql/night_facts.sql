-- What the views need of the night appended, once `tasks` and the history hold it: its
-- quarantine, its counts, the tasks it saw in flight and its batch tasks' records. Small per
-- night; the night's full rows stay in its Parquet file (views/task_snapshots.sql).
INSERT INTO task_quarantine BY NAME
SELECT * FROM read_parquet($quarantine_path);

-- One row even for a night that listed nothing (its read times are then unknown): a load
-- says which nights it holds.
INSERT INTO export_nights BY NAME
SELECT
    CAST($export_date AS DATE) AS export_date,
    min(exported_at) AS started_at,
    max(exported_at) AS as_of,
    count(*) AS tasks_listed,
    count(*) FILTER (WHERE from_mongodb) AS fallback_records
FROM night;

-- In flight by the status kept: a record that reports a finished task as running again is a
-- regression, not a task in flight.
INSERT INTO night_in_flight BY NAME
SELECT s.export_date, s.task_id
FROM night AS s
JOIN task_status_classes AS c ON c.status = s.status AND c.status_class = 'in_flight'
ANTI JOIN task_status_regressions AS r USING (task_id, export_date);

-- A batch task's fallback record may have lost its batch keys: the task's `tasks` row still
-- knows its batch, and batch_progress fills the tier facts from it.
INSERT INTO batch_observations BY NAME
SELECT
    s.export_date,
    s.task_id,
    coalesce(r.kept_status, s.status) AS status,
    s.batch_id IS NULL AS from_fallback,
    s.current_tier,
    s.total_tiers,
    s.object_count
FROM night AS s
JOIN tasks AS t USING (task_id)
LEFT JOIN task_status_regressions AS r USING (task_id, export_date)
WHERE t.batch_id IS NOT NULL;
