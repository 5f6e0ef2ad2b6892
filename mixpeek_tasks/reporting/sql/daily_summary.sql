-- One row per observation, newest first.
SELECT observation_id, observed_on, tasks_listed, new_tasks, finished, completed,
       completed_with_errors, failed, canceled, success_rate, in_flight, stuck, fallback_records,
       status_regressions, quarantined
FROM daily_summary
ORDER BY listing_started_at DESC, observation_id DESC;
