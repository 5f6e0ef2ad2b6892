-- The same per ISO week (starting Monday); rates are recomputed from the week's counts.
-- depends on: task_success_rate
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
