-- What one observation covered and how it was checked: Coverage.as_metadata(), one row per
-- observation. Created with the first observation that has a coverage record
-- (load/10_export_coverage.sql).
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
