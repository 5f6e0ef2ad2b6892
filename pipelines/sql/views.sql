-- Analysts' views over `tasks`. Status classes come from table task_status_classes, written
-- from pipelines/tasks.py, so SQL and Python agree on what "terminal" means.

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

-- Per task_type and duration source: how long finished tasks took, in seconds.
-- api_duration: additional_data.duration_ms; api_timestamps: (completed_at or updated_at)
-- minus (started_at or created_at). Sources are never mixed within a row.
CREATE OR REPLACE VIEW task_latency AS
WITH durations AS (
    SELECT
        t.task_type,
        CASE
            WHEN t.duration_ms IS NOT NULL THEN 'api_duration'
            WHEN coalesce(t.completed_at, t.updated_at) IS NOT NULL
                AND coalesce(t.started_at, t.created_at) IS NOT NULL THEN 'api_timestamps'
        END AS duration_source,
        coalesce(
            t.duration_ms / 1000.0,
            epoch(coalesce(t.completed_at, t.updated_at)) - epoch(coalesce(t.started_at, t.created_at))
        ) AS seconds
    FROM tasks AS t
    JOIN task_status_classes AS c USING (status)
    WHERE c.status_class = 'terminal'
)
SELECT
    task_type,
    duration_source,
    count(*) AS tasks,
    quantile_cont(seconds, 0.5) AS p50_seconds,
    quantile_cont(seconds, 0.9) AS p90_seconds,
    quantile_cont(seconds, 0.99) AS p99_seconds
FROM durations
-- A negative span means the record's clocks disagree; such tasks stay in `tasks`, not here.
WHERE duration_source IS NOT NULL AND seconds >= 0
GROUP BY ALL;
