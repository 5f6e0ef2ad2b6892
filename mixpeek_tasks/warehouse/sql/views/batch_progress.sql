-- Per batch_id and export date: the batch's task as that night's export saw it. A fallback
-- record that lost its batch keys keeps the task's last known tier facts.
CREATE OR REPLACE VIEW batch_progress AS
WITH observed AS (
    SELECT
        t.batch_id,
        s.export_date,
        s.task_id,
        coalesce(r.kept_status, s.status) AS status,
        s.batch_id IS NULL AS from_fallback,
        CASE WHEN s.batch_id IS NULL THEN t.current_tier ELSE s.current_tier END AS current_tier,
        CASE WHEN s.batch_id IS NULL THEN t.total_tiers ELSE s.total_tiers END AS total_tiers,
        CASE WHEN s.batch_id IS NULL THEN t.object_count ELSE s.object_count END AS object_count,
        count(*) OVER (PARTITION BY t.batch_id, s.export_date) AS tasks
    FROM task_snapshots AS s
    JOIN tasks AS t USING (task_id)
    LEFT JOIN task_status_regressions AS r USING (task_id, export_date)
    WHERE t.batch_id IS NOT NULL
    -- A batch run again has several tasks; the most recently created one speaks for it.
    QUALIFY row_number() OVER (
        PARTITION BY t.batch_id, s.export_date ORDER BY t.created_at DESC NULLS LAST, s.task_id
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
