-- What one export date's snapshot covered and how it was checked: Coverage.as_metadata() in
-- mixpeek_tasks/snapshot/reconcile.py, one row per export date (a re-run replaces it).
-- Created with the first night that has a coverage record (load/10_export_coverage.sql).
CREATE TABLE IF NOT EXISTS export_coverage (
    export_date DATE PRIMARY KEY,
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
