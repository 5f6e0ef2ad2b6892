"""The exporter's Dagster assets, each module with the checks that judge what it produces:
`snapshot` (the date's Parquet snapshot), `warehouse` (its DuckDB load), `analytics` (the
analysts' views), `report` (the HTML page) and `catalog` (every table and view of the
warehouse as an asset spec). They only wire the `mixpeek_tasks` library to
the resources and partitions of `pipelines/`."""

# The asset group the nightly job selects.
GROUP = "mixpeek_tasks"
# Who answers for these assets in Dagster's catalog.
OWNERS = ["team:mixpeek-task-history"]
