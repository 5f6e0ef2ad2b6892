-- Finished tasks a record of observation $observation reported as something else.
SELECT task_id, reported_status, kept_status, terminal_since, from_mongodb
FROM task_status_regressions
WHERE observation_id = $observation
ORDER BY task_id;
