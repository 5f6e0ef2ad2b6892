"""The one partitioning of the export: a partition is an export date (UTC)."""

from datetime import date

from dagster import DailyPartitionsDefinition

# end_offset=1 makes today a partition, so the 02:00 UTC run files its snapshot under the
# date it is taken on; the early start lets any recent date be run by hand.
export_partitions = DailyPartitionsDefinition(start_date="2025-01-01", end_offset=1, timezone="UTC")


def export_date_of(context) -> date:
    """The export date a run of an asset or of a check is for."""
    return date.fromisoformat(context.op_execution_context.partition_key)
