-- An observation newer than every one loaded so far changes only its own tasks, so they are
-- merged into the regressions and the status intervals: a load costs one observation's rows,
-- however long the history. A rebuild appends every observation in time order
-- (warehouse/load.py).
-- A task's open interval (valid_to NULL) holds its current status. Once a task was seen
-- terminal, its first terminal status stands: the open interval keeps it and never closes.
-- Times are the read times of the task's own records (exported_at): an interval starts when a
-- page first showed the status and ends when one first showed the next, never at a date label.
-- An interval is kept as the span of loaded observations from first_observation to
-- last_observation, less those in unlisted_in: extending it changes two fixed-width values,
-- where a list of every observation (observed_in, computed by the view task_status_history)
-- was rewritten whole for every task listed, every time.

-- A record that reports anything else is kept as a regression.
INSERT INTO task_status_regressions BY NAME
SELECT
    s.task_id,
    s.observation_id,
    s.exported_at,
    s.status AS reported_status,
    h.status AS kept_status,
    h.valid_from AS terminal_since,
    s.from_mongodb
FROM night AS s
JOIN task_status_intervals AS h ON h.task_id = s.task_id AND h.valid_to IS NULL
JOIN task_status_classes AS c ON c.status = h.status AND c.status_class = 'terminal'
WHERE s.status <> h.status;

-- The observation extends the open interval of a task whose status it keeps: first the loaded
-- observations since the task was last listed go to unlisted_in (rare: a task missing from a
-- listing and back), then it is observed now.
UPDATE task_status_intervals AS h
SET unlisted_in = list_concat(coalesce(h.unlisted_in, []), list_filter(
    (SELECT list(observation_id ORDER BY observation_id) FROM export_nights),
    lambda seen: seen > h.last_observation))
FROM night AS s
WHERE h.task_id = s.task_id AND h.valid_to IS NULL
    AND h.last_observation < (SELECT max(observation_id) FROM export_nights)
    AND (h.status = s.status OR h.status IN (
        SELECT status FROM task_status_classes WHERE status_class = 'terminal'));

-- unlisted_in again as JSON text, for SQL clients that cannot read a list.
UPDATE task_status_intervals AS h
SET unlisted_in_json = CAST(to_json(h.unlisted_in) AS VARCHAR)
FROM night AS s
WHERE h.task_id = s.task_id AND h.valid_to IS NULL
    AND h.unlisted_in_json IS DISTINCT FROM CAST(to_json(h.unlisted_in) AS VARCHAR);

UPDATE task_status_intervals AS h
SET last_observation = s.observation_id, last_observed_at = s.exported_at
FROM night AS s
WHERE h.task_id = s.task_id AND h.valid_to IS NULL
    AND (h.status = s.status OR h.status IN (
        SELECT status FROM task_status_classes WHERE status_class = 'terminal'));

-- ...and closes it when the status changed...
UPDATE task_status_intervals AS h
SET valid_to = s.exported_at
FROM night AS s
WHERE h.task_id = s.task_id AND h.valid_to IS NULL
    AND h.status <> s.status AND h.status NOT IN (
        SELECT status FROM task_status_classes WHERE status_class = 'terminal');

-- ...so the observation's tasks left without an open interval are the new ones (every known task
-- has one) and those whose interval it just closed: each opens its next interval.
INSERT INTO task_status_intervals BY NAME
SELECT
    s.task_id,
    CAST(coalesce(closed.interval_no, 0) + 1 AS INTEGER) AS interval_no,
    s.status,
    s.exported_at AS valid_from,
    NULL AS valid_to,
    s.exported_at AS first_observed_at,
    s.exported_at AS last_observed_at,
    s.observation_id AS first_observation,
    s.observation_id AS last_observation,
    NULL AS unlisted_in,
    NULL AS unlisted_in_json
FROM night AS s
LEFT JOIN task_status_intervals AS closed
    ON closed.task_id = s.task_id AND closed.valid_to = s.exported_at
        AND closed.last_observation < s.observation_id
WHERE NOT s.known OR closed.task_id IS NOT NULL;
