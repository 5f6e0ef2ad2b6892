"""One export date's snapshot: flatten pages into typed columns, stage them resumably,
and publish them as Parquet partition files."""
