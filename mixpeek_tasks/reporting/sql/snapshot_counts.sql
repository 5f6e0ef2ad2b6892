-- Rows of export date $d in the snapshot and the quarantine, and tasks known in all.
SELECT
    (SELECT tasks_listed FROM export_nights WHERE export_date = $d) AS snapshot_rows,
    (SELECT count(*) FROM task_quarantine WHERE export_date = $d) AS quarantined,
    (SELECT count(*) FROM tasks) AS tasks_known;
