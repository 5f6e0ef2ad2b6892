-- Per task_type and duration source: how long finished tasks took, in seconds. Sources are
-- never mixed within a row; error_bar_seconds is the widest export interval behind an
-- `observed` row (NULL for the API's own figures).
-- depends on: task_durations
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
