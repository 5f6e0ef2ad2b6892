"""The one partitioning of the export: a partition is an export date (UTC)."""

from dagster import DailyPartitionsDefinition

# end_offset=1 makes today a partition, so the 02:00 UTC run files its snapshot under the
# date it is taken on; the early start lets any recent date be run by hand.
export_partitions = DailyPartitionsDefinition(start_date="2025-01-01", end_offset=1, timezone="UTC")
