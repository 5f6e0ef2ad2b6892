-- Rows of observation $observation in the snapshot and the quarantine, and tasks known in all.
SELECT
    (SELECT tasks_listed FROM export_nights WHERE observation_id = $observation) AS snapshot_rows,
    (SELECT count(*) FROM task_quarantine WHERE observation_id = $observation) AS quarantined,
    (SELECT count(*) FROM tasks) AS tasks_known;
