-- Replace one export date's snapshot: a re-run of a date gives the same rows, never twice.
-- Tables take their columns from the Parquet schema (pipelines/flatten.py), the one source of truth.
CREATE TABLE IF NOT EXISTS task_snapshots AS
SELECT * FROM read_parquet($tasks_path) LIMIT 0;

CREATE TABLE IF NOT EXISTS task_quarantine AS
SELECT * FROM read_parquet($quarantine_path) LIMIT 0;

DELETE FROM task_snapshots WHERE export_date = $export_date;

-- Keyset paging lists each task once; keeping the latest row per task_id guards the
-- warehouse all the same should an API ever list a task twice in one export.
INSERT INTO task_snapshots BY NAME
SELECT * FROM read_parquet($tasks_path)
QUALIFY row_number() OVER (PARTITION BY task_id ORDER BY exported_at DESC) = 1;

DELETE FROM task_quarantine WHERE export_date = $export_date;

INSERT INTO task_quarantine BY NAME
SELECT * FROM read_parquet($quarantine_path);
