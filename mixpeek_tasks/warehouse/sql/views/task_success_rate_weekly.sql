-- The same per ISO week (starting Monday); rates are recomputed from the week's counts. A sum
-- of BIGINT counts is a HUGEINT, which BI drivers cannot take: the counts are cast back.
-- depends on: task_success_rate
CREATE OR REPLACE VIEW task_success_rate_weekly AS
SELECT
    task_type,
    CAST(date_trunc('week', day) AS DATE) AS week,
    CAST(sum(tasks) AS BIGINT) AS tasks,
    CAST(sum(terminal) AS BIGINT) AS terminal,
    CAST(sum(completed) AS BIGINT) AS completed,
    CAST(sum(completed_with_errors) AS BIGINT) AS completed_with_errors,
    CAST(sum(failed) AS BIGINT) AS failed,
    CAST(sum(canceled) AS BIGINT) AS canceled,
    CAST(sum(in_flight) AS BIGINT) AS in_flight,
    CAST(sum(other_status) AS BIGINT) AS other_status,
    sum(completed) / nullif(sum(terminal), 0) AS success_rate,
    sum(completed_with_errors) / nullif(sum(terminal), 0) AS partial_success_rate,
    sum(failed) / nullif(sum(terminal), 0) AS failure_rate
FROM task_success_rate
GROUP BY ALL;
