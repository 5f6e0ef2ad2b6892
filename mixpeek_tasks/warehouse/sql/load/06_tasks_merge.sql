-- One bucket of task_ids ($bucket of $buckets) of the night appended, merged into `tasks`:
-- the night's changed records (05_night_changed.sql) with their tasks' old `tasks` rows, which
-- are then deleted. The merge holds every input row of a bucket at once;
-- buckets keep that under the load's memory limit. `task_status_intervals` is already up to
-- date.
--
-- Each task gets its status from the history (terminal facts kept), the richest value known of
-- every other column, and when the exports first and last saw it.
-- Past the 24-hour TTL the API serves thinner fallback records: a column a later record left
-- empty keeps its latest known value, and additional_data is the JSON merge patch (RFC 7396) of
-- every record's in date order: a key a later record omits is kept (a fallback record that
-- lost its batch_id), while a later explicit null removes it and a later non-object replaces
-- the whole value; the typed columns keep their last non-null value either way. Queue fields
-- and the record's own provenance describe the latest record only: a stale queue position is
-- not a richer fact.
INSERT INTO tasks BY NAME
-- The materialization hints took a 100,000-task nightly append's three buckets from 1.6 s to
-- 1.2 s: each reader of the rows scans only the columns it needs, and the wide facts are
-- computed once for both parts of richest.
WITH snapshot_rows AS NOT MATERIALIZED (
    -- Each snapshot row of the bucket, carrying what `tasks` tells about when the exports saw it.
    SELECT
        *,
        exported_at AS first_seen_at,
        exported_at AS last_seen_at,
        observation_id AS first_observation,
        observation_id AS last_observation,
        CASE WHEN from_mongodb IS NOT TRUE THEN observation_id END
            AS last_full_record_observation,
        CAST(1 AS BIGINT) AS snapshots
    FROM changed
    WHERE hash(task_id) % CAST($buckets AS UBIGINT) = CAST($bucket AS UBIGINT)
),
prior_rows AS NOT MATERIALIZED (
    -- An old `tasks` row stands in for the snapshots it was built from: its values are their
    -- richest, its additional_data their merge, and it carries when they were seen.
    SELECT
        * EXCLUDE (status, reported_status),
        reported_status AS status,
        last_observation AS observation_id,
        last_seen_at AS exported_at
    FROM tasks
    WHERE last_observation < $observation AND task_id IN (SELECT task_id FROM snapshot_rows)
),
task_rows AS NOT MATERIALIZED (
    FROM snapshot_rows
    UNION ALL BY NAME
    FROM prior_rows
),
repeated AS (
    -- Most tasks have one input row (a first export; a night's new tasks): they need no merge,
    -- and skipping the aggregate for them is most of the load's time.
    SELECT task_id FROM task_rows GROUP BY task_id HAVING count(*) > 1
),
seen AS (
    SELECT
        task_id,
        min(first_seen_at) AS first_seen_at,
        max(last_seen_at) AS last_seen_at,
        min(first_observation) AS first_observation,
        max(last_observation) AS last_observation,
        max(last_full_record_observation) AS last_full_record_observation,
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
        flatten_issues,
        record_hash
    FROM task_rows
    QUALIFY row_number() OVER (
        PARTITION BY task_id ORDER BY observation_id DESC, exported_at DESC
    ) = 1
),
facts AS MATERIALIZED (
    -- The columns that keep their latest non-empty value, and the record's additional_data.
    SELECT
        task_id,
        observation_id AS fact_date,
        COLUMNS(* EXCLUDE (
            task_id, observation_id, exported_at, status, queue_position,
            estimated_wait_minutes, from_mongodb, flatten_issues, additional_data_json,
            first_seen_at, last_seen_at, first_observation, last_observation,
            last_full_record_observation, snapshots, record_hash, collection_ids_json,
            sample_object_ids_json, flatten_issues_json
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
    FROM task_status_intervals
    WHERE valid_to IS NULL
)
SELECT
    richest.*,
    current_status.status,
    latest.* EXCLUDE (task_id),
    seen.* EXCLUDE (task_id),
    -- The lists' JSON text, of the lists kept (tables.sql).
    CAST(to_json(richest.collection_ids) AS VARCHAR) AS collection_ids_json,
    CAST(to_json(richest.sample_object_ids) AS VARCHAR) AS sample_object_ids_json,
    CAST(to_json(latest.flatten_issues) AS VARCHAR) AS flatten_issues_json
FROM richest
JOIN current_status USING (task_id)
JOIN latest USING (task_id)
JOIN seen USING (task_id);

-- The old rows of the bucket's tasks, now merged into their new rows.
DELETE FROM tasks
WHERE last_observation < $observation AND task_id IN (
    SELECT task_id FROM changed
    WHERE hash(task_id) % CAST($buckets AS UBIGINT) = CAST($bucket AS UBIGINT)
);
