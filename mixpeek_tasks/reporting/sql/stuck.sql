-- In-flight tasks past the stuck threshold, oldest first.
SELECT task_id, task_type, status, age_hours, status_since, tier_progress, object_count
FROM stuck_tasks
ORDER BY age_hours DESC, task_id;
