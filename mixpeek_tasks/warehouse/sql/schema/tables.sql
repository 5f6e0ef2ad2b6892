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
    CAST(NULL AS VARCHAR) AS first_observation,
    CAST(NULL AS VARCHAR) AS last_observation,
    CAST(NULL AS VARCHAR) AS last_full_record_observation,
    CAST(0 AS BIGINT) AS snapshots,
    CAST(0 AS BIGINT) AS record_hash,
    -- The lists again as JSON text, for SQL clients that cannot read a list (tasks_new.sql and
    -- tasks_merge.sql write them beside the lists).
    CAST(NULL AS VARCHAR) AS collection_ids_json,
    CAST(NULL AS VARCHAR) AS sample_object_ids_json,
    CAST(NULL AS VARCHAR) AS flatten_issues_json
FROM read_parquet($tasks_path, hive_partitioning = false)
WHERE false;

-- One row per task per status interval (load/02_history_append.sql), read through the view
-- task_status_history below. valid_from and valid_to are read times: of the first record that
-- showed the status, and of the first that showed the next one. An observation is its id
-- (mixpeek_tasks/snapshot/observation.py), which sorts as its time does.
CREATE TABLE IF NOT EXISTS task_status_intervals AS
SELECT
    task_id,
    CAST(0 AS INTEGER) AS interval_no,
    status,
    exported_at AS valid_from,
    exported_at AS valid_to,
    exported_at AS first_observed_at,
    exported_at AS last_observed_at,
    CAST(NULL AS VARCHAR) AS first_observation,
    CAST(NULL AS VARCHAR) AS last_observation,
    CAST([] AS VARCHAR[]) AS unlisted_in,
    -- The list as JSON text, for SQL clients that cannot read a list (02_history_append.sql).
    CAST(NULL AS VARCHAR) AS unlisted_in_json
FROM read_parquet($tasks_path, hive_partitioning = false)
WHERE false;

-- Records that reported a finished task as anything else; the first terminal status is kept.
CREATE TABLE IF NOT EXISTS task_status_regressions AS
SELECT
    task_id,
    CAST(NULL AS VARCHAR) AS observation_id,
    exported_at,
    status AS reported_status,
    status AS kept_status,
    exported_at AS terminal_since,
    from_mongodb
FROM read_parquet($tasks_path, hive_partitioning = false)
WHERE false;

-- The file's export_date is left out: in a tree written before observations it is a label a
-- caller chose; the observation's own id and date stand for it.
CREATE TABLE IF NOT EXISTS task_quarantine AS
SELECT
    CAST(NULL AS VARCHAR) AS observation_id,
    CAST(NULL AS DATE) AS observed_on,
    * EXCLUDE (export_date)
FROM read_parquet($quarantine_path, hive_partitioning = false) LIMIT 0;

-- One row per observation: when its listing read its first and last page, and what it held,
-- counted when it was loaded (load/08_export_nights.sql): what the views need per observation, instead
-- of a copy of every snapshot row. `folder` is its folder in the tree (task_snapshots).
CREATE TABLE IF NOT EXISTS export_nights (
    observation_id VARCHAR PRIMARY KEY,
    observed_on DATE NOT NULL,
    listing_started_at TIMESTAMPTZ,
    listing_finished_at TIMESTAMPTZ,
    tasks_listed BIGINT NOT NULL,
    fallback_records BIGINT NOT NULL,
    folder VARCHAR NOT NULL
);

-- A batch task's tier facts from the observation they changed in (a row only when they differ
-- from the task's row before): batch_progress takes, for each observation that saw the task,
-- the row in force then. Most batch tasks finished long ago and are listed the same each time.
CREATE TABLE IF NOT EXISTS batch_observations AS
SELECT
    CAST(NULL AS VARCHAR) AS observation_id,
    task_id,
    batch_id IS NULL AS from_fallback,
    current_tier,
    total_tiers,
    object_count
FROM read_parquet($tasks_path, hive_partitioning = false)
WHERE false;

-- Each task's status intervals with every observation that saw the task in that status: the
-- loaded observations from its first to its last, less those it was missing from.
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
        (SELECT list(observation_id ORDER BY observation_id) FROM export_nights),
        lambda seen: seen BETWEEN i.first_observation AND i.last_observation
            AND NOT list_contains(coalesce(i.unlisted_in, []), seen)
    ) AS observed_in,
    i.first_observed_at,
    i.last_observed_at
FROM task_status_intervals AS i);
