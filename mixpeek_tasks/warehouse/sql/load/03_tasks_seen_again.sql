-- The night's tasks whose record is the one `tasks` last saw, unchanged (its hash is
-- tasks.record_hash): merging it again would give the same row, so only when the exports saw
-- it moves on. On a nightly account that is most tasks: old tasks finished long ago and are
-- listed again as they were. 06_tasks_merge.sql merges the rest.
UPDATE tasks AS t
SET
    last_seen_at = s.exported_at,
    last_observation = s.observation_id,
    last_full_record_observation = CASE
        WHEN s.from_mongodb IS NOT TRUE THEN s.observation_id ELSE t.last_full_record_observation
    END,
    snapshots = t.snapshots + 1
FROM night AS s
WHERE t.task_id = s.task_id AND s.known_hash = s.record_hash
    AND t.last_observation < s.observation_id;
