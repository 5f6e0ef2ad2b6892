-- Each task's status history, rebuilt from every snapshot so a backfilled or re-run date lands
-- in its place. Snapshots are ordered by export_date, never by exported_at: a re-run of an old
-- date has a new exported_at but still describes that night.

-- A terminal status never goes back. When a later record reports anything else (fallback
-- records past the 24-hour TTL do), the first terminal fact stands and the disagreement is kept
-- here for the asset check, instead of rewriting history.
CREATE OR REPLACE TABLE task_status_regressions AS
WITH first_terminal AS (
    SELECT
        s.task_id,
        min(s.export_date) AS export_date,
        arg_min(s.status, s.export_date) AS status
    FROM task_snapshots AS s
    JOIN task_status_classes AS c ON c.status = s.status AND c.status_class = 'terminal'
    GROUP BY s.task_id
)
SELECT
    s.task_id,
    s.export_date,
    s.exported_at,
    s.status AS reported_status,
    f.status AS kept_status,
    f.export_date AS terminal_since,
    s.from_mongodb
FROM task_snapshots AS s
JOIN first_terminal AS f
    ON f.task_id = s.task_id AND s.export_date > f.export_date AND s.status <> f.status;

-- One row per task per status interval: consecutive snapshots with the same (kept) status form
-- one interval. A date the task was missing from does not split an interval.
CREATE OR REPLACE TABLE task_status_history AS
WITH observed AS (
    SELECT
        s.task_id,
        s.export_date,
        s.exported_at,
        coalesce(r.kept_status, s.status) AS status
    FROM task_snapshots AS s
    LEFT JOIN task_status_regressions AS r USING (task_id, export_date)
),
changes AS (
    SELECT
        *,
        CASE WHEN status IS DISTINCT FROM lag(status) OVER w THEN 1 ELSE 0 END AS starts_interval
    FROM observed
    WINDOW w AS (PARTITION BY task_id ORDER BY export_date)
),
numbered AS (
    SELECT
        *,
        sum(starts_interval) OVER (PARTITION BY task_id ORDER BY export_date) AS interval_no
    FROM changes
),
intervals AS (
    SELECT
        task_id,
        interval_no,
        any_value(status) AS status,
        min(export_date) AS valid_from,
        list(export_date ORDER BY export_date) AS observed_in,
        arg_min(exported_at, export_date) AS first_observed_at,
        arg_max(exported_at, export_date) AS last_observed_at
    FROM numbered
    GROUP BY task_id, interval_no
)
SELECT
    task_id,
    CAST(interval_no AS INTEGER) AS interval_no,
    status,
    valid_from,
    lead(valid_from) OVER (PARTITION BY task_id ORDER BY interval_no) AS valid_to,
    observed_in,
    first_observed_at,
    last_observed_at
FROM intervals;
