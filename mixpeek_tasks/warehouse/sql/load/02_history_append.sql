-- A night newer than every night loaded so far changes only its own tasks, so they are merged
-- into the regressions and the status intervals: a nightly load costs one night's rows,
-- however long the history. A rebuild appends every night in date order (warehouse/load.py).
-- A task's open interval (valid_to NULL) holds its current status. Once a task was seen
-- terminal, its first terminal status stands: the open interval keeps it and never closes.
-- An interval is kept as the span of loaded nights from valid_from to last_observed_on, less
-- the nights in unlisted_on: extending it each night changes two fixed-width values, where a
-- list of every night (observed_in, now computed by the view task_status_history) was
-- rewritten whole for every task listed, every night.

-- A record that reports anything else is kept as a regression.
INSERT INTO task_status_regressions BY NAME
SELECT
    s.task_id,
    s.export_date,
    s.exported_at,
    s.status AS reported_status,
    h.status AS kept_status,
    h.valid_from AS terminal_since,
    s.from_mongodb
FROM night AS s
JOIN task_status_intervals AS h ON h.task_id = s.task_id AND h.valid_to IS NULL
JOIN task_status_classes AS c ON c.status = h.status AND c.status_class = 'terminal'
WHERE s.status <> h.status;

-- The night extends the open interval of a task whose status it keeps: first the loaded
-- nights since the task was last listed go to unlisted_on (rare: a task missing from a
-- listing and back), then it is observed tonight.
UPDATE task_status_intervals AS h
SET unlisted_on = list_concat(coalesce(h.unlisted_on, []), list_filter(
    (SELECT list(export_date ORDER BY export_date) FROM export_nights),
    lambda night: night > h.last_observed_on))
FROM night AS s
WHERE h.task_id = s.task_id AND h.valid_to IS NULL
    AND h.last_observed_on < (SELECT max(export_date) FROM export_nights)
    AND (h.status = s.status OR h.status IN (
        SELECT status FROM task_status_classes WHERE status_class = 'terminal'));

-- unlisted_on again as JSON text, for SQL clients that cannot read a list.
UPDATE task_status_intervals AS h
SET unlisted_on_json = CAST(to_json(h.unlisted_on) AS VARCHAR)
FROM night AS s
WHERE h.task_id = s.task_id AND h.valid_to IS NULL
    AND h.unlisted_on_json IS DISTINCT FROM CAST(to_json(h.unlisted_on) AS VARCHAR);

UPDATE task_status_intervals AS h
SET last_observed_on = s.export_date, last_observed_at = s.exported_at
FROM night AS s
WHERE h.task_id = s.task_id AND h.valid_to IS NULL
    AND (h.status = s.status OR h.status IN (
        SELECT status FROM task_status_classes WHERE status_class = 'terminal'));

-- ...and closes it when the status changed...
UPDATE task_status_intervals AS h
SET valid_to = s.export_date
FROM night AS s
WHERE h.task_id = s.task_id AND h.valid_to IS NULL
    AND h.status <> s.status AND h.status NOT IN (
        SELECT status FROM task_status_classes WHERE status_class = 'terminal');

-- ...so the night's tasks left without an open interval are the new ones (every known task
-- has one) and those whose interval it just closed: each opens its next interval.
INSERT INTO task_status_intervals BY NAME
SELECT
    s.task_id,
    CAST(coalesce(closed.interval_no, 0) + 1 AS INTEGER) AS interval_no,
    s.status,
    s.export_date AS valid_from,
    NULL AS valid_to,
    s.exported_at AS first_observed_at,
    s.exported_at AS last_observed_at,
    s.export_date AS last_observed_on,
    NULL AS unlisted_on,
    NULL AS unlisted_on_json
FROM night AS s
LEFT JOIN task_status_intervals AS closed
    ON closed.task_id = s.task_id AND closed.valid_to = s.export_date
WHERE NOT s.known OR closed.task_id IS NOT NULL;
