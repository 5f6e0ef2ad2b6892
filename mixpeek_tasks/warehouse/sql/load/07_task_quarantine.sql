-- The night's quarantined records (why each was set aside is in the row), kept beside the
-- derived tables: small per night.
INSERT INTO task_quarantine BY NAME
SELECT * FROM read_parquet($quarantine_path);
