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
