-- One row per task_id: its latest state, and when the exports first and last saw it.
CREATE OR REPLACE TABLE tasks AS
WITH seen AS (
    SELECT
        task_id,
        min(exported_at) AS first_seen_at,
        max(exported_at) AS last_seen_at,
        min(export_date) AS first_export_date,
        max(export_date) AS last_export_date,
        count(*) AS snapshots
    FROM task_snapshots
    GROUP BY task_id
),
latest AS (
    SELECT * EXCLUDE (export_date, exported_at)
    FROM task_snapshots
    QUALIFY row_number() OVER (
        PARTITION BY task_id ORDER BY export_date DESC, exported_at DESC
    ) = 1
)
SELECT latest.*, seen.* EXCLUDE (task_id)
FROM latest
JOIN seen USING (task_id);
