-- Rows of task_success_rate whose terminal count is not the sum of its four statuses.
SELECT count(*)
FROM task_success_rate
WHERE terminal <> completed + completed_with_errors + failed + canceled;
