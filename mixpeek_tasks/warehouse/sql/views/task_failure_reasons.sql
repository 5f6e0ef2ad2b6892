-- Failure reasons per task_type, most frequent first (rank 1 = top reason).
-- depends on: task_failures
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
