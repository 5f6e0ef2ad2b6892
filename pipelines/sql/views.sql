-- Analysts' views over `tasks`, `task_status_history` and `task_snapshots`, documented column
-- by column in docs/data-dictionary.md. Status classes come from table task_status_classes,
-- written from pipelines/tasks.py, so SQL and Python agree on what "terminal" means.

-- Settings the views read; a view cannot take parameters, and BI tools only see views.
CREATE OR REPLACE TABLE analytics_settings AS
SELECT CAST($stuck_after_hours AS DOUBLE) AS stuck_after_hours;

-- Error text with ids and numbers taken out, so one kind of failure groups together:
-- UUIDs, prefixed ids (obj_0012, raysubmit_81), long hex runs -> <id>; numbers -> <n>.
CREATE OR REPLACE MACRO normalize_error(message) AS
trim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
    message,
    '[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}', '<id>', 'g'),
    '\b[A-Za-z][A-Za-z0-9]*[_-][A-Za-z0-9_-]*[0-9][A-Za-z0-9_-]*', '<id>', 'g'),
    '\b[0-9A-Fa-f]{8,}\b', '<id>', 'g'),
    '[0-9]+([.,][0-9]+)*', '<n>', 'g'),
    '\s+', ' ', 'g'));

-- Per task_type and day (UTC day the task was created, else first seen): outcome counts.
-- `terminal` counts the four documented terminal statuses only; SKIPPED, INTERRUPTED and any
-- status never seen before fall in `other_status`, still-running ones in `in_flight`.
CREATE OR REPLACE VIEW task_success_rate AS
SELECT
    t.task_type,
    CAST(timezone('UTC', coalesce(t.created_at, t.first_seen_at)) AS DATE) AS day,
    count(*) AS tasks,
    count(*) FILTER (WHERE c.status_class = 'terminal') AS terminal,
    count(*) FILTER (WHERE t.status = 'COMPLETED') AS completed,
    count(*) FILTER (WHERE t.status = 'COMPLETED_WITH_ERRORS') AS completed_with_errors,
    count(*) FILTER (WHERE t.status = 'FAILED') AS failed,
    count(*) FILTER (WHERE t.status = 'CANCELED') AS canceled,
    count(*) FILTER (WHERE c.status_class = 'in_flight') AS in_flight,
    count(*) FILTER (WHERE coalesce(c.status_class, 'other') = 'other') AS other_status,
    completed / nullif(terminal, 0) AS success_rate,
    completed_with_errors / nullif(terminal, 0) AS partial_success_rate,
    failed / nullif(terminal, 0) AS failure_rate
FROM tasks AS t
LEFT JOIN task_status_classes AS c USING (status)
GROUP BY ALL;

-- The same per ISO week (starting Monday); rates are recomputed from the week's counts.
CREATE OR REPLACE VIEW task_success_rate_weekly AS
SELECT
    task_type,
    CAST(date_trunc('week', day) AS DATE) AS week,
    sum(tasks) AS tasks,
    sum(terminal) AS terminal,
    sum(completed) AS completed,
    sum(completed_with_errors) AS completed_with_errors,
    sum(failed) AS failed,
    sum(canceled) AS canceled,
    sum(in_flight) AS in_flight,
    sum(other_status) AS other_status,
    sum(completed) / nullif(sum(terminal), 0) AS success_rate,
    sum(completed_with_errors) / nullif(sum(terminal), 0) AS partial_success_rate,
    sum(failed) / nullif(sum(terminal), 0) AS failure_rate
FROM task_success_rate
GROUP BY ALL;

-- How long each finished task took, from the best source it has, labelled:
--   api_duration   additional_data.duration_ms (a tier record's own measurement);
--   api_timestamps (completed_at or updated_at) minus (started_at or created_at);
--   observed       first export that saw it unfinished to first export that saw it finished.
-- An observed duration is only as fine as the exports: the task finished within
-- error_bar_seconds before the measured end, and may have started up to one export interval
-- before it was first seen.
CREATE OR REPLACE VIEW task_durations AS
WITH sightings AS (
    SELECT
        h.task_id,
        arg_min(h.first_observed_at, h.valid_from)
            FILTER (WHERE c.status_class IS DISTINCT FROM 'terminal') AS first_unfinished_at,
        arg_max(h.last_observed_at, h.valid_from)
            FILTER (WHERE c.status_class IS DISTINCT FROM 'terminal') AS last_unfinished_at,
        arg_min(h.first_observed_at, h.valid_from)
            FILTER (WHERE c.status_class = 'terminal') AS first_finished_at
    FROM task_status_history AS h
    LEFT JOIN task_status_classes AS c USING (status)
    GROUP BY h.task_id
)
SELECT
    t.task_id,
    t.task_type,
    t.status,
    CASE
        WHEN t.duration_ms IS NOT NULL THEN 'api_duration'
        WHEN coalesce(t.completed_at, t.updated_at) IS NOT NULL
            AND coalesce(t.started_at, t.created_at) IS NOT NULL THEN 'api_timestamps'
        WHEN s.first_unfinished_at IS NOT NULL THEN 'observed'
    END AS duration_source,
    CASE duration_source
        WHEN 'api_duration' THEN t.duration_ms / 1000.0
        WHEN 'api_timestamps' THEN epoch(coalesce(t.completed_at, t.updated_at))
            - epoch(coalesce(t.started_at, t.created_at))
        WHEN 'observed' THEN epoch(s.first_finished_at) - epoch(s.first_unfinished_at)
    END AS seconds,
    CASE duration_source
        WHEN 'observed' THEN epoch(s.first_finished_at) - epoch(s.last_unfinished_at)
    END AS error_bar_seconds
FROM tasks AS t
JOIN task_status_classes AS c USING (status)
JOIN sightings AS s USING (task_id)
WHERE c.status_class = 'terminal';

-- Per task_type and duration source: how long finished tasks took, in seconds. Sources are
-- never mixed within a row; error_bar_seconds is the widest export interval behind an
-- `observed` row (NULL for the API's own figures).
CREATE OR REPLACE VIEW task_latency AS
SELECT
    task_type,
    duration_source,
    count(*) AS tasks,
    quantile_cont(seconds, 0.5) AS p50_seconds,
    quantile_cont(seconds, 0.9) AS p90_seconds,
    quantile_cont(seconds, 0.99) AS p99_seconds,
    max(error_bar_seconds) AS error_bar_seconds
FROM task_durations
-- A negative span means the record's clocks disagree; such tasks stay in `tasks`, not here.
WHERE duration_source IS NOT NULL AND seconds >= 0
GROUP BY ALL;

-- Every failed task with its error and the error's normalised reason.
CREATE OR REPLACE VIEW task_failures AS
SELECT
    t.task_id,
    t.task_type,
    t.error,
    coalesce(normalize_error(t.error), '(no error message)') AS reason,
    t.created_at,
    h.valid_from AS failed_seen_on,
    t.job_id,
    t.batch_id
FROM tasks AS t
JOIN task_status_history AS h ON h.task_id = t.task_id AND h.valid_to IS NULL
WHERE t.status = 'FAILED';

-- Failure reasons per task_type, most frequent first (rank 1 = top reason).
CREATE OR REPLACE VIEW task_failure_reasons AS
SELECT
    task_type,
    reason,
    count(*) AS failures,
    count(*) / sum(count(*)) OVER (PARTITION BY task_type) AS share_of_type_failures,
    row_number() OVER (PARTITION BY task_type ORDER BY count(*) DESC, reason) AS rank,
    min(error) AS example_error,
    min(failed_seen_on) AS first_seen_on,
    max(failed_seen_on) AS last_seen_on
FROM task_failures
GROUP BY task_type, reason;

-- When each export date's run read the API (a page's read time; the last page's is `as_of`).
CREATE OR REPLACE VIEW export_runs AS
SELECT export_date, min(exported_at) AS started_at, max(exported_at) AS as_of
FROM task_snapshots
GROUP BY export_date;

-- In-flight tasks (PENDING, QUEUED, IN_PROGRESS, PROCESSING) older than
-- analytics_settings.stuck_after_hours at the latest export.
CREATE OR REPLACE VIEW stuck_tasks AS
WITH latest_export AS (
    SELECT export_date, as_of
    FROM export_runs
    ORDER BY export_date DESC
    LIMIT 1
)
SELECT
    t.task_id,
    t.task_type,
    t.status,
    (epoch(l.as_of) - epoch(coalesce(t.created_at, t.first_seen_at))) / 3600 AS age_hours,
    h.valid_from AS status_since,
    t.current_tier,
    t.total_tiers,
    CASE
        WHEN t.total_tiers IS NULL THEN NULL
        WHEN t.current_tier IS NULL THEN 'not started'
        ELSE format('tier {} of {}', t.current_tier + 1, t.total_tiers)
    END AS tier_progress,
    t.object_count,
    t.batch_id,
    t.created_at,
    t.first_seen_at,
    l.as_of
FROM tasks AS t
JOIN task_status_classes AS c USING (status)
JOIN task_status_history AS h ON h.task_id = t.task_id AND h.valid_to IS NULL
CROSS JOIN latest_export AS l
CROSS JOIN analytics_settings AS a
-- A task the API no longer lists is not stuck now, whatever its last status was.
WHERE c.status_class = 'in_flight' AND age_hours > a.stuck_after_hours
    AND t.last_export_date = l.export_date;

-- Per batch_id and export date: the batch's task as that night's export saw it. A fallback
-- record that lost its batch keys keeps the task's last known tier facts.
CREATE OR REPLACE VIEW batch_progress AS
WITH observed AS (
    SELECT
        t.batch_id,
        s.export_date,
        s.task_id,
        coalesce(r.kept_status, s.status) AS status,
        s.batch_id IS NULL AS from_fallback,
        CASE WHEN s.batch_id IS NULL THEN t.current_tier ELSE s.current_tier END AS current_tier,
        CASE WHEN s.batch_id IS NULL THEN t.total_tiers ELSE s.total_tiers END AS total_tiers,
        CASE WHEN s.batch_id IS NULL THEN t.object_count ELSE s.object_count END AS object_count,
        count(*) OVER (PARTITION BY t.batch_id, s.export_date) AS tasks
    FROM task_snapshots AS s
    JOIN tasks AS t USING (task_id)
    LEFT JOIN task_status_regressions AS r USING (task_id, export_date)
    WHERE t.batch_id IS NOT NULL
    -- A batch run again has several tasks; the most recently created one speaks for it.
    QUALIFY row_number() OVER (
        PARTITION BY t.batch_id, s.export_date ORDER BY t.created_at DESC NULLS LAST, s.task_id
    ) = 1
)
SELECT
    batch_id,
    export_date,
    task_id,
    tasks,
    status,
    current_tier,
    total_tiers,
    CASE
        WHEN status IN ('COMPLETED', 'COMPLETED_WITH_ERRORS') THEN total_tiers
        ELSE coalesce(current_tier, 0)
    END AS tiers_done,
    object_count,
    from_fallback
FROM observed;

-- One row per export date, for dashboards.
CREATE OR REPLACE VIEW daily_summary AS
WITH listed AS (
    SELECT
        s.export_date,
        count(*) AS tasks_listed,
        count(*) FILTER (WHERE c.status_class = 'in_flight') AS in_flight,
        -- Judged as stuck_tasks judges the latest export, as of the end of that night's run.
        count(*) FILTER (
            WHERE c.status_class = 'in_flight'
                AND epoch(e.as_of) - epoch(coalesce(t.created_at, t.first_seen_at))
                    > 3600 * a.stuck_after_hours
        ) AS stuck,
        count(*) FILTER (WHERE s.from_mongodb) AS fallback_records
    FROM task_snapshots AS s
    JOIN export_runs AS e USING (export_date)
    JOIN tasks AS t USING (task_id)
    LEFT JOIN task_status_regressions AS r USING (task_id, export_date)
    LEFT JOIN task_status_classes AS c ON c.status = coalesce(r.kept_status, s.status)
    CROSS JOIN analytics_settings AS a
    GROUP BY s.export_date
),
new_tasks AS (
    SELECT first_export_date AS export_date, count(*) AS new_tasks
    FROM tasks
    GROUP BY ALL
),
-- A task counts as finished on the first export date that saw it terminal.
finished AS (
    SELECT
        h.valid_from AS export_date,
        count(*) AS finished,
        count(*) FILTER (WHERE h.status = 'COMPLETED') AS completed,
        count(*) FILTER (WHERE h.status = 'COMPLETED_WITH_ERRORS') AS completed_with_errors,
        count(*) FILTER (WHERE h.status = 'FAILED') AS failed,
        count(*) FILTER (WHERE h.status = 'CANCELED') AS canceled
    FROM task_status_history AS h
    JOIN task_status_classes AS c USING (status)
    WHERE c.status_class = 'terminal'
    GROUP BY ALL
),
regressions AS (
    SELECT export_date, count(*) AS status_regressions
    FROM task_status_regressions
    GROUP BY ALL
),
quarantined AS (
    SELECT export_date, count(*) AS quarantined
    FROM task_quarantine
    GROUP BY ALL
)
SELECT
    l.export_date,
    e.started_at AS export_started_at,
    e.as_of AS export_finished_at,
    l.tasks_listed,
    coalesce(n.new_tasks, 0) AS new_tasks,
    coalesce(f.finished, 0) AS finished,
    coalesce(f.completed, 0) AS completed,
    coalesce(f.completed_with_errors, 0) AS completed_with_errors,
    coalesce(f.failed, 0) AS failed,
    coalesce(f.canceled, 0) AS canceled,
    f.completed / nullif(f.finished, 0) AS success_rate,
    f.failed / nullif(f.finished, 0) AS failure_rate,
    l.in_flight,
    l.stuck,
    l.fallback_records,
    coalesce(g.status_regressions, 0) AS status_regressions,
    coalesce(q.quarantined, 0) AS quarantined
FROM listed AS l
JOIN export_runs AS e USING (export_date)
LEFT JOIN new_tasks AS n USING (export_date)
LEFT JOIN finished AS f USING (export_date)
LEFT JOIN regressions AS g USING (export_date)
LEFT JOIN quarantined AS q USING (export_date);
