-- What the views need of the night appended, once `tasks` and the history hold it: its
-- quarantine, its counts and its batch tasks' changed tier facts. Small per night; the
-- night's full rows stay in its Parquet file (task_snapshots), and which tasks it listed in
-- which status is in task_status_history.observed_in.
INSERT INTO task_quarantine BY NAME
SELECT
    CAST($observation AS VARCHAR) AS observation_id,
    CAST($observed_on AS DATE) AS observed_on,
    * EXCLUDE (export_date)
FROM read_parquet($quarantine_path);

-- One row even for an observation that listed nothing: a load says which observations it
-- holds. Its listing times are its manifest's (an earlier tree's: its files' read times).
INSERT INTO export_nights BY NAME
SELECT
    CAST($observation AS VARCHAR) AS observation_id,
    CAST($observed_on AS DATE) AS observed_on,
    CAST($listing_started_at AS TIMESTAMPTZ) AS listing_started_at,
    CAST($listing_finished_at AS TIMESTAMPTZ) AS listing_finished_at,
    count(*) AS tasks_listed,
    count(*) FILTER (WHERE from_mongodb) AS fallback_records,
    CAST($folder AS VARCHAR) AS folder
FROM night;

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
