-- What one observation covered and how it was checked: Coverage.as_metadata() in
-- mixpeek_tasks/snapshot/reconcile.py, one row per observation.
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

INSERT OR REPLACE INTO export_coverage BY NAME
SELECT
    CAST($observation AS VARCHAR) AS observation_id,
    CAST($strategy AS VARCHAR) AS strategy,
    CAST($strategy_reason AS VARCHAR) AS strategy_reason,
    CAST($verdict AS VARCHAR) AS verdict,
    CAST($requests AS BIGINT) AS requests,
    CAST($created_before AS TIMESTAMPTZ) AS created_before,
    CAST($total_at_start AS BIGINT) AS total_at_start,
    CAST($created_before_at_start AS BIGINT) AS created_before_at_start,
    CAST($total_at_end AS BIGINT) AS total_at_end,
    CAST($created_before_at_end AS BIGINT) AS created_before_at_end,
    CAST($listed AS BIGINT) AS listed,
    CAST($listed_from_before AS BIGINT) AS listed_from_before,
    CAST($oldest_created_at AS TIMESTAMPTZ) AS oldest_created_at,
    CAST($newest_created_at AS TIMESTAMPTZ) AS newest_created_at,
    CAST($from_mongodb_share AS DOUBLE) AS from_mongodb_share;
