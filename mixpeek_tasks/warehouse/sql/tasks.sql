-- Each snapshot row as an input of `tasks`, carrying what `tasks` tells about when the exports
-- saw it. A `tasks` row carries the same for all the snapshots it was built from, so appending
-- a night merges old `tasks` rows with new snapshot rows by the same rules.
CREATE OR REPLACE TEMP VIEW snapshot_rows AS
SELECT
    *,
    exported_at AS first_seen_at,
    exported_at AS last_seen_at,
    export_date AS first_export_date,
    export_date AS last_export_date,
    CASE WHEN from_mongodb IS NOT TRUE THEN export_date END AS last_full_record_date,
    CAST(1 AS BIGINT) AS snapshots
FROM task_snapshots;

-- The rows `tasks` is built from: every snapshot, unless tasks_append.sql narrows them to one
-- night and the old `tasks` rows of its tasks (the views below read whichever is defined).
CREATE OR REPLACE TEMP VIEW task_inputs AS
SELECT * FROM snapshot_rows;

-- Merged one bucket of task_ids at a time (tasks_merge.sql): the merge holds every row of a
-- task at once, which for a long history is more than the load's memory limit.
CREATE OR REPLACE TEMP TABLE merge_bucket AS
SELECT CAST(0 AS UBIGINT) AS bucket, CAST(1 AS UBIGINT) AS buckets;

CREATE OR REPLACE TEMP VIEW task_rows AS
SELECT * FROM task_inputs
WHERE hash(task_id) % (SELECT buckets FROM merge_bucket) = (SELECT bucket FROM merge_bucket);

-- merged_tasks(): one row per task_id of `task_rows`: its status from the history (terminal
-- facts kept), the richest value known of every other column, and when the exports first and
-- last saw it.
-- Past the 24-hour TTL the API serves thinner fallback records: a column a later record left
-- empty keeps its latest known value, and additional_data is the JSON merge patch (RFC 7396) of
-- every record's in date order: a key a later record omits is kept (a fallback record that
-- lost its batch_id), while a later explicit null removes it and a later non-object replaces
-- the whole value; the typed columns keep their last non-null value either way. Queue fields
-- and the record's own provenance describe the latest record only: a stale queue position is
-- not a richer fact.
CREATE OR REPLACE TEMP MACRO merged_tasks() AS TABLE
WITH repeated AS (
    -- Most tasks have one input row (a first export; a night's new tasks): they need no merge,
    -- and skipping the aggregate for them is most of the load's time.
    SELECT task_id FROM task_rows GROUP BY task_id HAVING count(*) > 1
),
seen AS (
    SELECT
        task_id,
        min(first_seen_at) AS first_seen_at,
        max(last_seen_at) AS last_seen_at,
        min(first_export_date) AS first_export_date,
        max(last_export_date) AS last_export_date,
        max(last_full_record_date) AS last_full_record_date,
        CAST(sum(snapshots) AS BIGINT) AS snapshots
    FROM task_rows
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
    FROM task_rows
    QUALIFY row_number() OVER (
        PARTITION BY task_id ORDER BY export_date DESC, exported_at DESC
    ) = 1
),
facts AS (
    -- The columns that keep their latest non-empty value, and the record's additional_data.
    SELECT
        task_id,
        export_date AS fact_date,
        COLUMNS(* EXCLUDE (
            task_id, export_date, exported_at, status, queue_position,
            estimated_wait_minutes, from_mongodb, flatten_issues, additional_data_json,
            first_seen_at, last_seen_at, first_export_date, last_export_date,
            last_full_record_date, snapshots
        )),
        additional_data_json
    FROM task_rows
),
richest AS (
    SELECT COLUMNS(* EXCLUDE (fact_date))
    FROM facts ANTI JOIN repeated USING (task_id)
    UNION ALL BY NAME
    SELECT
        task_id,
        -- arg_max skips NULLs, so each column gets its latest non-empty value.
        arg_max(COLUMNS(* EXCLUDE (task_id, fact_date, additional_data_json)), fact_date),
        CAST(list_reduce(
            list(CAST(additional_data_json AS JSON) ORDER BY fact_date)
                FILTER (WHERE additional_data_json IS NOT NULL),
            lambda older, newer: json_merge_patch(older, newer)
        ) AS VARCHAR) AS additional_data_json
    FROM facts SEMI JOIN repeated USING (task_id)
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
