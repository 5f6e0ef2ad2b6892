-- The warehouse's tables, created empty in a transaction of their own before the first night
-- is appended: DuckDB 2.0 writes an insert of a row group or more (122,880 rows) straight to
-- the file, and into a table created empty in the same transaction such rows are invisible to
-- that transaction's scans (a big account's first load once built an empty `tasks`).
-- Columns follow the snapshot's Parquet schema (mixpeek_tasks/snapshot/flatten.py), the one
-- source of truth; the snapshots themselves stay in Parquet (the view task_snapshots,
-- warehouse/views.py).

-- One row per task: its latest state, the richest value known of every column
-- (load/06_tasks_merge.sql).
CREATE TABLE IF NOT EXISTS tasks AS
SELECT
    task_id,
    task_type,
    status,
    status AS reported_status,
    * EXCLUDE (
        task_id, task_type, status, export_date, exported_at, additional_data_json,
        queue_position, estimated_wait_minutes, from_mongodb, flatten_issues
    ),
    additional_data_json,
    queue_position,
    estimated_wait_minutes,
    from_mongodb,
    flatten_issues,
    exported_at AS first_seen_at,
    exported_at AS last_seen_at,
    export_date AS first_export_date,
    export_date AS last_export_date,
    export_date AS last_full_record_date,
    CAST(0 AS BIGINT) AS snapshots,
    CAST(0 AS BIGINT) AS record_hash,
    -- The lists again as JSON text, for SQL clients that cannot read a list (tasks_new.sql and
    -- tasks_merge.sql write them beside the lists).
    CAST(NULL AS VARCHAR) AS collection_ids_json,
    CAST(NULL AS VARCHAR) AS sample_object_ids_json,
    CAST(NULL AS VARCHAR) AS flatten_issues_json
FROM read_parquet($tasks_path)
WHERE false;

-- One row per task per status interval (load/02_history_append.sql), read through the view
-- task_status_history below.
CREATE TABLE IF NOT EXISTS task_status_intervals AS
SELECT
    task_id,
    CAST(0 AS INTEGER) AS interval_no,
    status,
    export_date AS valid_from,
    export_date AS valid_to,
    exported_at AS first_observed_at,
    exported_at AS last_observed_at,
    export_date AS last_observed_on,
    [export_date] AS unlisted_on,
    -- The list as JSON text, for SQL clients that cannot read a list (history_append.sql).
    CAST(NULL AS VARCHAR) AS unlisted_on_json
FROM read_parquet($tasks_path)
WHERE false;

-- Records that reported a finished task as anything else; the first terminal status is kept.
CREATE TABLE IF NOT EXISTS task_status_regressions AS
SELECT
    task_id,
    export_date,
    exported_at,
    status AS reported_status,
    status AS kept_status,
    export_date AS terminal_since,
    from_mongodb
FROM read_parquet($tasks_path)
WHERE false;

CREATE TABLE IF NOT EXISTS task_quarantine AS
SELECT * FROM read_parquet($quarantine_path) LIMIT 0;

-- What each night's listing held, counted when it was loaded (load/08_export_nights.sql): what
-- the views need per night, instead of a copy of every snapshot row.
CREATE TABLE IF NOT EXISTS export_nights AS
SELECT
    export_date,
    exported_at AS started_at,
    exported_at AS as_of,
    CAST(0 AS BIGINT) AS tasks_listed,
    CAST(0 AS BIGINT) AS fallback_records
FROM read_parquet($tasks_path)
WHERE false;

-- A batch task's tier facts from the night they changed (a row only when they differ from the
-- task's row before): batch_progress takes, for each night the history saw the task, the row
-- in force then. Most batch tasks finished long ago and are listed the same every night.
CREATE TABLE IF NOT EXISTS batch_observations AS
SELECT
    export_date,
    task_id,
    batch_id IS NULL AS from_fallback,
    current_tier,
    total_tiers,
    object_count
FROM read_parquet($tasks_path)
WHERE false;

-- Each task's status intervals with every night that saw the task in that status: the loaded
-- nights from valid_from to last_observed_on, less those it was missing from.
-- observed_in_json: the list as JSON text, for SQL clients that cannot read a list.
CREATE OR REPLACE VIEW task_status_history AS
SELECT *, CAST(to_json(observed_in) AS VARCHAR) AS observed_in_json
FROM (SELECT
    i.task_id,
    i.interval_no,
    i.status,
    i.valid_from,
    i.valid_to,
    list_filter(
        (SELECT list(export_date ORDER BY export_date) FROM export_nights),
        lambda night: night BETWEEN i.valid_from AND i.last_observed_on
            AND NOT list_contains(coalesce(i.unlisted_on, []), night)
    ) AS observed_in,
    i.first_observed_at,
    i.last_observed_at
FROM task_status_intervals AS i);
