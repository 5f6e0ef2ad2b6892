"""The Mixpeek API as the exporter sees it: transport, retries, request budget, paging, and the
API's vocabulary of statuses and task types."""
