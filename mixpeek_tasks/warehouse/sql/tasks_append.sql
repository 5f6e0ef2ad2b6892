-- A night newer than every night loaded so far changes only its own tasks, so they are merged
-- into the history, the regressions and `tasks` instead of rebuilding those from every
-- snapshot: a nightly load costs one night's rows, however long the history. The result is
-- the same as history.sql and tasks_rebuild.sql give (tests/test_history.py holds them equal).

-- (A view cannot take a parameter; task_inputs below reads the night from here.)
CREATE OR REPLACE TEMP TABLE appended_night AS
SELECT CAST($export_date AS DATE) AS export_date;

-- The night's tasks as `tasks` knew them before it.
CREATE OR REPLACE TEMP TABLE prior_tasks AS
SELECT * FROM tasks
WHERE task_id IN (SELECT task_id FROM task_snapshots WHERE export_date = $export_date);

-- Once a task was seen terminal its first terminal status stands, so it is the task's current
-- status, and its open interval began on the night it was first seen terminal.
CREATE OR REPLACE TEMP TABLE night_statuses AS
SELECT
    s.task_id,
    s.export_date,
    s.exported_at,
    s.status AS reported_status,
    s.from_mongodb,
    CASE WHEN c.status_class = 'terminal' THEN p.status ELSE s.status END AS status,
    c.status_class = 'terminal' AND s.status <> p.status AS regressed,
    h.interval_no AS open_interval_no,
    h.status AS open_status,
    h.valid_from AS open_since
FROM task_snapshots AS s
LEFT JOIN prior_tasks AS p USING (task_id)
LEFT JOIN task_status_classes AS c ON c.status = p.status
LEFT JOIN task_status_history AS h ON h.task_id = s.task_id AND h.valid_to IS NULL
WHERE s.export_date = $export_date;

INSERT INTO task_status_regressions BY NAME
SELECT
    task_id,
    export_date,
    exported_at,
    reported_status,
    status AS kept_status,
    open_since AS terminal_since,
    from_mongodb
FROM night_statuses
WHERE regressed;

UPDATE task_status_history AS h
SET observed_in = list_append(h.observed_in, n.export_date), last_observed_at = n.exported_at
FROM night_statuses AS n
WHERE h.task_id = n.task_id AND h.valid_to IS NULL AND h.status = n.status;

UPDATE task_status_history AS h
SET valid_to = n.export_date
FROM night_statuses AS n
WHERE h.task_id = n.task_id AND h.valid_to IS NULL AND h.status <> n.status;

INSERT INTO task_status_history BY NAME
SELECT
    task_id,
    CAST(coalesce(open_interval_no, 0) + 1 AS INTEGER) AS interval_no,
    status,
    export_date AS valid_from,
    NULL AS valid_to,
    [export_date] AS observed_in,
    exported_at AS first_observed_at,
    exported_at AS last_observed_at
FROM night_statuses
WHERE open_status IS DISTINCT FROM status;

-- An old `tasks` row stands in for the snapshots it was built from: its values are their
-- richest, its additional_data their merge, and it carries when they were seen.
CREATE OR REPLACE TEMP VIEW task_inputs AS
SELECT * FROM snapshot_rows WHERE export_date = (SELECT export_date FROM appended_night)
UNION ALL BY NAME
SELECT
    * EXCLUDE (status, reported_status),
    reported_status AS status,
    last_export_date AS export_date,
    last_seen_at AS exported_at
FROM prior_tasks;

-- tasks_merge.sql then inserts the merged rows.
DELETE FROM tasks WHERE task_id IN (SELECT task_id FROM prior_tasks);
