"""`export_coverage`: the coverage facts of each export date, loaded with its snapshot."""

from datetime import datetime, timedelta, timezone

import duckdb
import pytest

from mixpeek_tasks.snapshot.coverage import Coverage, ServiceCounts, SnapshotContent
from mixpeek_tasks.snapshot.observation import Observation
from mixpeek_tasks.snapshot.parquet_files import coverage_key
from mixpeek_tasks.warehouse.database import Warehouse
from tests.support.snapshots import write_snapshot

# When two observations' listings read their pages.
DAY_ONE = datetime(2026, 11, 22, 2, tzinfo=timezone.utc)
DAY_TWO = datetime(2026, 11, 23, 2, tzinfo=timezone.utc)
CUTOFF = datetime(2026, 11, 23, 2, 0, 0, 123000, tzinfo=timezone.utc)
OLDEST = datetime(2026, 1, 5, 8, 30, tzinfo=timezone.utc)
NEWEST = datetime(2026, 11, 23, 1, 59, tzinfo=timezone.utc)
TIMESTAMPTZ = "TIMESTAMP WITH TIME ZONE"
COLUMNS = [
    ("observation_id", "VARCHAR"), ("strategy", "VARCHAR"), ("strategy_reason", "VARCHAR"),
    ("verdict", "VARCHAR"), ("requests", "BIGINT"), ("created_before", TIMESTAMPTZ),
    ("total_at_start", "BIGINT"), ("created_before_at_start", "BIGINT"),
    ("total_at_end", "BIGINT"), ("created_before_at_end", "BIGINT"), ("listed", "BIGINT"),
    ("listed_from_before", "BIGINT"), ("oldest_created_at", TIMESTAMPTZ),
    ("newest_created_at", TIMESTAMPTZ), ("from_mongodb_share", "DOUBLE"),
    ("incremental_from", "VARCHAR"), ("carried", "BIGINT"), ("gone_task_ids", "VARCHAR[]"),
    ("gone_task_ids_json", "VARCHAR"),
]


def snapshot(root, read_at: datetime, coverage: Coverage | None = None) -> Observation:
    page = [{"task_id": f"task-{n}", "task_type": "thumbnail", "status": "COMPLETED"}
            for n in range(3)]
    return write_snapshot(root, page, read_at, None if coverage is None else coverage.to_json())


def keyset_coverage() -> Coverage:
    return Coverage(
        strategy="keyset", reason="the probe saw ids in order", positional=False, cutoff=CUTOFF,
        at_start=ServiceCounts(total=3, created_before=3),
        at_end=ServiceCounts(total=4, created_before=3),
        content=SnapshotContent(listed=3, listed_from_before=3, oldest_created_at=OLDEST,
                                newest_created_at=NEWEST, from_mongodb_share=0.25),
        requests=7, probe={"pages": 2}, strategy_facts={"ranges": 4},
        verdict="exact: 3 listed of the 3 tasks created before the export the service reports",
    )


def cursor_coverage() -> Coverage:
    # A service without totals or created_at filters: the counts and the content are unknown.
    return Coverage(
        strategy="cursor", reason='refused "keyset"; it\'s -- positional', positional=True,
        cutoff=CUTOFF, at_start=ServiceCounts(None, None), at_end=ServiceCounts(None, None),
        content=SnapshotContent(listed=0, listed_from_before=0, oldest_created_at=None,
                                newest_created_at=None, from_mongodb_share=None),
        requests=1,
    )


def coverage_rows(warehouse: Warehouse) -> list[tuple]:
    return warehouse.query("SELECT * FROM export_coverage ORDER BY observation_id").rows


def coverage_columns(warehouse: Warehouse) -> list[tuple]:
    return warehouse.query(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_name = 'export_coverage' ORDER BY ordinal_position").rows


def test_a_load_with_coverage_writes_one_typed_row(tmp_path):
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    observed = snapshot(tmp_path, DAY_ONE, keyset_coverage())
    warehouse.load()
    assert coverage_columns(warehouse) == COLUMNS
    assert coverage_rows(warehouse) == [(
        observed.id, "keyset", "the probe saw ids in order",
        "exact: 3 listed of the 3 tasks created before the export the service reports",
        7, CUTOFF, 3, 3, 4, 3, 3, 3, OLDEST, NEWEST, 0.25, None, None, None, None)]


def test_each_observation_has_its_row_and_a_rebuild_keeps_them(tmp_path):
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    ids = [snapshot(tmp_path, DAY_ONE, keyset_coverage()).id]
    warehouse.load()
    ids.append(snapshot(tmp_path, DAY_TWO, keyset_coverage()).id)
    warehouse.load()
    # A second observation of the first day, made an hour after its first: a row of its own.
    ids.insert(1, snapshot(tmp_path, DAY_ONE + timedelta(hours=1), cursor_coverage()).id)
    assert warehouse.load().history_update == "rebuilt"
    first, again, second = coverage_rows(warehouse)
    assert (first[:2], second[:2]) == ((ids[0], "keyset"), (ids[2], "keyset"))
    assert again == (ids[1], "cursor", 'refused "keyset"; it\'s -- positional', "", 1, CUTOFF,
                     None, None, None, None, 0, 0, None, None, None, None, None, None, None)


def test_a_night_without_coverage_has_no_row_and_keeps_the_others(tmp_path):
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    snapshot(tmp_path, DAY_ONE)
    warehouse.load()
    # The table is made with the other derived tables; an observation without a record adds
    # no row to it.
    assert coverage_rows(warehouse) == []
    day_two = snapshot(tmp_path, DAY_TWO, keyset_coverage())
    warehouse.load()
    before = coverage_rows(warehouse)
    assert [row[0] for row in before] == [day_two.id]
    warehouse.rebuild()
    assert coverage_rows(warehouse) == before


def test_a_damaged_coverage_record_fails_the_whole_load(tmp_path):
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    day_one = snapshot(tmp_path, DAY_ONE, keyset_coverage())
    warehouse.load()
    day_two = snapshot(tmp_path, DAY_TWO, keyset_coverage())
    stored = tmp_path / "parquet" / coverage_key(day_two.folder)
    stored.write_bytes(b"{" * stored.stat().st_size)  # the size the manifest says, not JSON
    with pytest.raises(ValueError):
        warehouse.load()
    assert [row[:2] for row in coverage_rows(warehouse)] == [(day_one.id, "keyset")]
    assert warehouse.query("SELECT observation_id FROM export_nights").rows == [(day_one.id,)]


def test_a_warehouse_made_before_incremental_observations_gets_their_columns(tmp_path):
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    first = snapshot(tmp_path, DAY_ONE, keyset_coverage())
    warehouse.load()
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        for column in ("incremental_from", "carried", "gone_task_ids", "gone_task_ids_json"):
            con.execute(f"ALTER TABLE export_coverage DROP COLUMN {column}")
    second = snapshot(tmp_path, DAY_TWO, keyset_coverage())
    warehouse.load()
    assert coverage_columns(warehouse) == COLUMNS
    assert [row[0] for row in coverage_rows(warehouse)] == [first.id, second.id]
