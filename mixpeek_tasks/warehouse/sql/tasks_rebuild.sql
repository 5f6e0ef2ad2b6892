-- `tasks` emptied for a rebuild, after a backfilled or re-run date (which can change any
-- night's place in a task's history); tasks_merge.sql then fills it by name from every
-- snapshot, in buckets below a DuckDB row group since the table is created in the same
-- transaction (see MERGE_BUCKET_ROWS in database.py). Its columns follow the snapshot's
-- (mixpeek_tasks/snapshot/flatten.py), in the order docs/data-dictionary.md lists them.
CREATE OR REPLACE TABLE tasks AS
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
    CAST(0 AS BIGINT) AS snapshots
FROM task_snapshots
WHERE false;
