-- One row per export date, newest first.
SELECT export_date, tasks_listed, new_tasks, finished, completed, completed_with_errors, failed,
       canceled, success_rate, in_flight, stuck, fallback_records, status_regressions,
       quarantined
FROM daily_summary
ORDER BY export_date DESC;
