-- Top normalised failure reasons, most frequent first.
SELECT task_type, rank, reason, failures, share_of_type_failures, example_error
FROM task_failure_reasons
ORDER BY failures DESC, task_type, rank;
