-- `tasks` from every snapshot (history.sql runs first): after a backfilled or re-run date,
-- which can change any night's place in a task's history. tasks_merge.sql fills it.
CREATE OR REPLACE TABLE tasks AS
FROM merged_tasks()
WHERE false;
