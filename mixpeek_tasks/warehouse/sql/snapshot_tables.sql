-- The snapshot tables, created empty before the first load in a transaction of their own:
-- DuckDB 2.0 writes an insert of a row group or more (122,880 rows) straight to the file, and
-- into a table created empty in the same transaction such rows are invisible to that
-- transaction's scans, so a big account's first load built an empty `tasks`.
-- Tables take their columns from the Parquet schema (mixpeek_tasks/snapshot/flatten.py), the one source of truth.
CREATE TABLE IF NOT EXISTS task_snapshots AS
SELECT * FROM read_parquet($tasks_path) LIMIT 0;

CREATE TABLE IF NOT EXISTS task_quarantine AS
SELECT * FROM read_parquet($quarantine_path) LIMIT 0;
