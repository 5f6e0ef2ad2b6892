"""The Mixpeek task-history exporter's library: the API client, the snapshot, the warehouse
and the reports. It never imports Dagster, so it can be used and tested without it; the
Dagster code location (`pipelines/`) and the assets (`assets/`) wire it together."""
