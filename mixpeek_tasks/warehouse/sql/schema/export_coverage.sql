-- What one observation covered and how it was checked: Coverage.as_metadata(), one row per
-- observation, written by load/10_export_coverage.sql. Created with the other derived tables
-- (schema.py), so tasks_gone binds in a warehouse of observations without coverage records.
CREATE TABLE IF NOT EXISTS export_coverage (
    observation_id VARCHAR PRIMARY KEY,
    strategy VARCHAR,
    strategy_reason VARCHAR,
    verdict VARCHAR,
    requests BIGINT,
    created_before TIMESTAMPTZ,
    total_at_start BIGINT,
    created_before_at_start BIGINT,
    total_at_end BIGINT,
    created_before_at_end BIGINT,
    listed BIGINT,
    listed_from_before BIGINT,
    oldest_created_at TIMESTAMPTZ,
    newest_created_at TIMESTAMPTZ,
    from_mongodb_share DOUBLE
);

-- An incremental observation's increment (snapshot/increment.py): the observation it builds on,
-- how many tasks it carried unchanged from there without listing them, and the unfinished
-- tasks it asked for by id that the service no longer has. NULL for a listing of every task.
-- Added after the table was first made: a warehouse made before gets them here.
ALTER TABLE export_coverage ADD COLUMN IF NOT EXISTS incremental_from VARCHAR;
ALTER TABLE export_coverage ADD COLUMN IF NOT EXISTS carried BIGINT;
ALTER TABLE export_coverage ADD COLUMN IF NOT EXISTS gone_task_ids VARCHAR[];
ALTER TABLE export_coverage ADD COLUMN IF NOT EXISTS gone_task_ids_json VARCHAR;
