-- One row per task_id: its status from the history (terminal facts kept), the richest value
-- known of every other column, and when the exports first and last saw it.
-- Past the 24-hour TTL the API serves thinner fallback records: a column a later record left
-- empty keeps its latest known value, and additional_data merges every record's keys, so a
-- lost batch_id is never forgotten. Queue fields and the record's own provenance describe the
-- latest record only: a stale queue position is not a richer fact.
CREATE OR REPLACE TABLE tasks AS
WITH seen AS (
    SELECT
        task_id,
        min(exported_at) AS first_seen_at,
        max(exported_at) AS last_seen_at,
        min(export_date) AS first_export_date,
        max(export_date) AS last_export_date,
        max(export_date) FILTER (WHERE from_mongodb IS NOT TRUE) AS last_full_record_date,
        count(*) AS snapshots
    FROM task_snapshots
    GROUP BY task_id
),
latest AS (
    SELECT
        task_id,
        status AS reported_status,
        queue_position,
        estimated_wait_minutes,
        from_mongodb,
        flatten_issues
    FROM task_snapshots
    QUALIFY row_number() OVER (
        PARTITION BY task_id ORDER BY export_date DESC, exported_at DESC
    ) = 1
),
richest AS (
    SELECT
        task_id,
        -- arg_max skips NULLs, so each column gets its latest non-empty value.
        arg_max(
            COLUMNS(* EXCLUDE (
                task_id, export_date, exported_at, status, queue_position,
                estimated_wait_minutes, from_mongodb, flatten_issues, additional_data_json
            )),
            export_date
        ),
        CAST(list_reduce(
            list(CAST(additional_data_json AS JSON) ORDER BY export_date)
                FILTER (WHERE additional_data_json IS NOT NULL),
            lambda older, newer: json_merge_patch(older, newer)
        ) AS VARCHAR) AS additional_data_json
    FROM task_snapshots
    GROUP BY task_id
),
current_status AS (
    SELECT task_id, status
    FROM task_status_history
    WHERE valid_to IS NULL
)
SELECT
    richest.task_id,
    richest.task_type,
    current_status.status,
    latest.reported_status,
    richest.* EXCLUDE (task_id, task_type),
    latest.* EXCLUDE (task_id, reported_status),
    seen.* EXCLUDE (task_id)
FROM richest
JOIN current_status USING (task_id)
JOIN latest USING (task_id)
JOIN seen USING (task_id);
