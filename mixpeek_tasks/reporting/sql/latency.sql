-- Latency percentiles per task type and duration source, busiest first.
SELECT task_type, duration_source, tasks, p50_seconds, p90_seconds, p99_seconds,
       error_bar_seconds
FROM task_latency
ORDER BY tasks DESC, task_type, duration_source;
