-- Per batch_id and observation: the batch's task as that observation saw it. A fallback
-- record that lost its batch keys keeps the task's last known tier facts.
CREATE OR REPLACE VIEW batch_progress AS
WITH listed AS (
    -- Each observation that saw a batch task, in the status it kept then.
    SELECT h.task_id, unnest(h.observed_in) AS observation_id, h.status
    FROM task_status_history AS h
    WHERE h.task_id IN (SELECT task_id FROM tasks WHERE batch_id IS NOT NULL)
),
observed AS (
    SELECT
        t.batch_id,
        l.observation_id,
        l.task_id,
        l.status,
        o.from_fallback,
        CASE WHEN o.from_fallback THEN t.current_tier ELSE o.current_tier END AS current_tier,
        CASE WHEN o.from_fallback THEN t.total_tiers ELSE o.total_tiers END AS total_tiers,
        CASE WHEN o.from_fallback THEN t.object_count ELSE o.object_count END AS object_count,
        count(*) OVER (PARTITION BY t.batch_id, l.observation_id) AS tasks
    FROM listed AS l
    JOIN tasks AS t USING (task_id)
    -- The tier facts in force then: the task's latest change at or before that observation.
    ASOF LEFT JOIN batch_observations AS o
        ON o.task_id = l.task_id AND l.observation_id >= o.observation_id
    -- A batch run again has several tasks; the most recently created one speaks for it.
    QUALIFY row_number() OVER (
        PARTITION BY t.batch_id, l.observation_id ORDER BY t.created_at DESC NULLS LAST, l.task_id
    ) = 1
)
SELECT
    batch_id,
    observation_id,
    task_id,
    tasks,
    status,
    current_tier,
    total_tiers,
    CASE
        WHEN status IN ('COMPLETED', 'COMPLETED_WITH_ERRORS') THEN total_tiers
        ELSE coalesce(current_tier, 0)
    END AS tiers_done,
    object_count,
    from_fallback
FROM observed;
