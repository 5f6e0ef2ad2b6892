-- Finished tasks a record of export date $d reported as something else.
SELECT task_id, reported_status, kept_status, terminal_since, from_mongodb
FROM task_status_regressions
WHERE export_date = $d
ORDER BY task_id;
