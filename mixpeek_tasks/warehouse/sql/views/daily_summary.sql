-- One row per observation (two on a day observed twice), for dashboards.
-- depends on: analytics_settings, export_runs
CREATE OR REPLACE VIEW daily_summary AS
WITH in_flight AS (
    -- Each observation that listed a task in flight, by the status kept: a record that reports
    -- a finished task as running again is a regression, not a task in flight.
    SELECT unnest(h.observed_in) AS observation_id, h.task_id
    FROM task_status_history AS h
    JOIN task_status_classes AS c USING (status)
    WHERE c.status_class = 'in_flight'
),
listed AS (
    SELECT
        n.observation_id,
        n.tasks_listed,
        count(f.task_id) AS in_flight,
        -- Judged as stuck_tasks judges the latest observation, as of its last page.
        count(f.task_id) FILTER (
            WHERE epoch(n.listing_finished_at) - epoch(coalesce(t.created_at, t.first_seen_at))
                > 3600 * a.stuck_after_hours
        ) AS stuck,
        n.fallback_records
    FROM export_nights AS n
    LEFT JOIN in_flight AS f USING (observation_id)
    LEFT JOIN tasks AS t USING (task_id)
    CROSS JOIN analytics_settings AS a
    GROUP BY n.observation_id, n.tasks_listed, n.fallback_records, n.listing_finished_at,
        a.stuck_after_hours
),
new_tasks AS (
    SELECT first_observation AS observation_id, count(*) AS new_tasks
    FROM tasks
    GROUP BY ALL
),
-- A task counts as finished at the first observation that saw it terminal.
finished AS (
    SELECT
        h.first_observation AS observation_id,
        count(*) AS finished,
        count(*) FILTER (WHERE h.status = 'COMPLETED') AS completed,
        count(*) FILTER (WHERE h.status = 'COMPLETED_WITH_ERRORS') AS completed_with_errors,
        count(*) FILTER (WHERE h.status = 'FAILED') AS failed,
        count(*) FILTER (WHERE h.status = 'CANCELED') AS canceled
    FROM task_status_intervals AS h
    JOIN task_status_classes AS c USING (status)
    WHERE c.status_class = 'terminal'
    GROUP BY ALL
),
regressions AS (
    SELECT observation_id, count(*) AS status_regressions
    FROM task_status_regressions
    GROUP BY ALL
),
quarantined AS (
    SELECT observation_id, count(*) AS quarantined
    FROM task_quarantine
    GROUP BY ALL
)
SELECT
    l.observation_id,
    e.observed_on,
    e.listing_started_at,
    e.listing_finished_at,
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
JOIN export_runs AS e USING (observation_id)
LEFT JOIN new_tasks AS n USING (observation_id)
LEFT JOIN finished AS f USING (observation_id)
LEFT JOIN regressions AS g USING (observation_id)
LEFT JOIN quarantined AS q USING (observation_id);
