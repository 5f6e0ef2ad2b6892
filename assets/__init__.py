"""The exporter's Dagster assets, each module with the checks that judge what it produces:
`snapshot` (the date's Parquet snapshot), `warehouse` (its DuckDB load), `analytics` (the
analysts' views) and `report` (the HTML page). They only wire the `mixpeek_tasks` library to
the resources and partitions of `pipelines/`."""

# The asset group the nightly job selects.
GROUP = "mixpeek_tasks"
