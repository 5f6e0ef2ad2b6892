-- The observation's quarantined records (why each was set aside is in the row), kept beside
-- the derived tables: small per observation. The file's export_date is left out: in a tree
-- written before observations it is a label a caller chose; the observation's own id and date
-- stand for it.
INSERT INTO task_quarantine BY NAME
SELECT
    CAST($observation AS VARCHAR) AS observation_id,
    CAST($observed_on AS DATE) AS observed_on,
    * EXCLUDE (export_date)
FROM read_parquet($quarantine_path, hive_partitioning = false);
