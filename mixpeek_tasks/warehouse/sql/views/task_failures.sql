-- Every failed task with its error and the error's normalised reason.
-- depends on: normalize_error
CREATE OR REPLACE VIEW task_failures AS
SELECT
    t.task_id,
    t.task_type,
    t.error,
    coalesce(normalize_error(t.error), '(no error message)') AS reason,
    t.created_at,
    CAST(timezone('UTC', h.valid_from) AS DATE) AS failed_seen_on,
    t.job_id,
    t.batch_id
FROM tasks AS t
JOIN task_status_history AS h ON h.task_id = t.task_id AND h.valid_to IS NULL
WHERE t.status = 'FAILED';
