-- The night's tasks whose record is the one `tasks` last saw, unchanged (its hash is
-- tasks.record_hash): merging it again would give the same row, so only when the exports saw
-- it moves on. On a nightly account that is most tasks: old tasks finished long ago and are
-- listed again as they were. 06_tasks_merge.sql merges the rest.
UPDATE tasks AS t
SET
    last_seen_at = s.exported_at,
    last_export_date = s.export_date,
    last_full_record_date = CASE
        WHEN s.from_mongodb IS NOT TRUE THEN s.export_date ELSE t.last_full_record_date
    END,
    snapshots = t.snapshots + 1
FROM night AS s
WHERE t.task_id = s.task_id AND s.known_hash = s.record_hash
    AND t.last_export_date < s.export_date;
