-- The tasks the service no longer lists, kept in the history: the observation that last listed
-- each (and when), and the first observation after it that shows the task gone: a listing of
-- every task without it, or an incremental one whose read by id found it missing. Not being
-- in an incremental observation is no sign of anything: it carries the tasks it does not read
-- (export_coverage.carried).
CREATE OR REPLACE VIEW tasks_gone AS
SELECT
    t.task_id,
    t.status,
    t.last_observation AS last_listed_in,
    t.last_seen_at AS last_listed_at,
    min(c.observation_id) AS gone_since
FROM tasks AS t
JOIN export_coverage AS c
    ON c.observation_id > t.last_observation
    AND (c.incremental_from IS NULL OR list_contains(c.gone_task_ids, t.task_id))
GROUP BY ALL;
