-- In-flight tasks (PENDING, QUEUED, IN_PROGRESS, PROCESSING) older than
-- analytics_settings.stuck_after_hours at the latest observation (as of its last page).
-- depends on: analytics_settings, export_runs
CREATE OR REPLACE VIEW stuck_tasks AS
WITH latest_export AS (
    SELECT observation_id, listing_finished_at AS as_of
    FROM export_runs
    ORDER BY observation_id DESC
    LIMIT 1
)
SELECT
    t.task_id,
    t.task_type,
    t.status,
    (epoch(l.as_of) - epoch(coalesce(t.created_at, t.first_seen_at))) / 3600 AS age_hours,
    h.valid_from AS status_since,
    t.current_tier,
    t.total_tiers,
    CASE
        WHEN t.total_tiers IS NULL THEN NULL
        WHEN t.current_tier IS NULL THEN 'not started'
        ELSE format('tier {} of {}', t.current_tier + 1, t.total_tiers)
    END AS tier_progress,
    t.object_count,
    t.batch_id,
    t.created_at,
    t.first_seen_at,
    l.as_of
FROM tasks AS t
JOIN task_status_classes AS c USING (status)
JOIN task_status_history AS h ON h.task_id = t.task_id AND h.valid_to IS NULL
CROSS JOIN latest_export AS l
CROSS JOIN analytics_settings AS a
-- A task the API no longer lists is not stuck now, whatever its last status was.
WHERE c.status_class = 'in_flight' AND age_hours > a.stuck_after_hours
    AND t.last_observation = l.observation_id;
