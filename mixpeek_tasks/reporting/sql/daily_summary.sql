-- One row per observation, newest first (its id holds its UTC date and time: observed_on would
-- only widen the table past a 1400-pixel window).
SELECT observation_id, tasks_listed, new_tasks, finished, completed,
       completed_with_errors, failed, canceled, success_rate, in_flight, stuck, fallback_records,
       status_regressions, quarantined
FROM daily_summary
ORDER BY listing_started_at DESC, observation_id DESC;
