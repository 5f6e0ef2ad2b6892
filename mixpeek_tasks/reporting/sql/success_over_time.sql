-- Weekly success rate per task type, for the report's line chart.
SELECT task_type, week, terminal, success_rate
FROM task_success_rate_weekly
WHERE terminal > 0
ORDER BY task_type, week;
