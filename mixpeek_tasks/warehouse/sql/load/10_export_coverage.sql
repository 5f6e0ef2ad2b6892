-- The night's coverage record (schema/export_coverage.sql), when it has one.
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
    CAST($from_mongodb_share AS DOUBLE) AS from_mongodb_share,
    CAST($incremental_from AS VARCHAR) AS incremental_from,
    CAST($carried AS BIGINT) AS carried,
    CAST($gone_task_ids AS VARCHAR[]) AS gone_task_ids,
    CAST(to_json(CAST($gone_task_ids AS VARCHAR[])) AS VARCHAR) AS gone_task_ids_json;
