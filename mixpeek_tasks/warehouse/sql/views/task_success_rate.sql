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
