-- Per batch_id and export date: the batch's task as that night's export saw it. A fallback
-- record that lost its batch keys keeps the task's last known tier facts.
CREATE OR REPLACE VIEW batch_progress AS
WITH observed AS (
    SELECT
        t.batch_id,
        o.export_date,
        o.task_id,
        o.status,
        o.from_fallback,
        CASE WHEN o.from_fallback THEN t.current_tier ELSE o.current_tier END AS current_tier,
        CASE WHEN o.from_fallback THEN t.total_tiers ELSE o.total_tiers END AS total_tiers,
        CASE WHEN o.from_fallback THEN t.object_count ELSE o.object_count END AS object_count,
        count(*) OVER (PARTITION BY t.batch_id, o.export_date) AS tasks
    FROM batch_observations AS o
    JOIN tasks AS t USING (task_id)
    WHERE t.batch_id IS NOT NULL
    -- A batch run again has several tasks; the most recently created one speaks for it.
    QUALIFY row_number() OVER (
        PARTITION BY t.batch_id, o.export_date ORDER BY t.created_at DESC NULLS LAST, o.task_id
    ) = 1
)
SELECT
    batch_id,
    export_date,
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
