-- A batch task's fallback record may have lost its batch keys: the task's `tasks` row still
-- knows its batch, and batch_progress fills the tier facts from it.
INSERT INTO batch_observations BY NAME
WITH observed AS (
    SELECT
        s.observation_id,
        s.task_id,
        s.batch_id IS NULL AS from_fallback,
        s.current_tier,
        s.total_tiers,
        s.object_count
    FROM night AS s
    JOIN tasks AS t USING (task_id)
    WHERE t.batch_id IS NOT NULL
),
in_force AS (
    SELECT
        task_id,
        arg_max((from_fallback, current_tier, total_tiers, object_count), observation_id)
            AS facts
    FROM batch_observations
    WHERE task_id IN (SELECT task_id FROM observed)
    GROUP BY task_id
)
SELECT observed.*
FROM observed
LEFT JOIN in_force USING (task_id)
WHERE in_force.facts IS DISTINCT FROM
    (observed.from_fallback, observed.current_tier, observed.total_tiers, observed.object_count);
