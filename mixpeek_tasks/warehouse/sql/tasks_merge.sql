-- One bucket of the merged `tasks` rows (see merge_bucket in tasks.sql).
CREATE OR REPLACE TEMP TABLE merge_bucket AS
SELECT CAST($bucket AS UBIGINT) AS bucket, CAST($buckets AS UBIGINT) AS buckets;

INSERT INTO tasks BY NAME
FROM merged_tasks();
