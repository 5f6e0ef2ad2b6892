-- Success rates per task type over all days: the demo report and the analytics preview.
SELECT task_type,
       sum(tasks) AS tasks,
       sum(terminal) AS terminal,
       sum(completed) / nullif(sum(terminal), 0) AS success_rate,
       sum(completed_with_errors) / nullif(sum(terminal), 0) AS partial_success_rate,
       sum(failed) / nullif(sum(terminal), 0) AS failure_rate
FROM task_success_rate
GROUP BY task_type
ORDER BY tasks DESC, task_type;
