"""The night's manifest: what it promises, what it refuses, and how the tree trusts it."""

from datetime import date, datetime, timezone

import orjson
import pyarrow as pa
import pytest

from mixpeek_tasks.snapshot.flatten import QUARANTINE_SCHEMA, flatten_tasks
from mixpeek_tasks.snapshot.manifest import Manifest, ManifestEntry, ManifestError
from mixpeek_tasks.snapshot.tree import SnapshotTree
from tests.support.snapshots import publish_tables

NIGHT = date(2026, 11, 23)
MANIFEST = Manifest(NIGHT, datetime(2026, 11, 23, 2, 5, tzinfo=timezone.utc), {
    "tasks": ManifestEntry("tasks/export_date=2026-11-23/data.parquet", 5120, 40),
    "quarantine": ManifestEntry("task_quarantine/export_date=2026-11-23/data.parquet", 900, 0),
    "coverage": ManifestEntry("tasks/export_date=2026-11-23/_coverage.json", 311),
})


def _saved(**changes) -> bytes:
    saved = orjson.loads(MANIFEST.to_json())
    saved.update(changes)
    return orjson.dumps(saved)


def test_a_manifest_reads_back_as_written():
    assert Manifest.from_json(MANIFEST.to_json(), NIGHT) == MANIFEST


@pytest.mark.parametrize("raw, says", [
    (b"", "unreadable"),
    (b'{"version": 1, "export_date": "2026-11-23"', "unreadable"),  # a torn write
    (_saved(version=2), "version 2"),
    (_saved(export_date="2026-11-22"), "names 2026-11-22"),
    (_saved(files={"tasks": {"path": "x", "bytes": "many", "rows": 1}}), "unreadable"),
    (_saved(files={"tasks": {"path": "x", "rows": 1}}), "unreadable"),
    (_saved(published_at="last night"), "unreadable"),
])
def test_a_damaged_or_foreign_manifest_is_refused(raw, says):
    with pytest.raises(ManifestError, match=says):
        Manifest.from_json(raw, NIGHT)


@pytest.mark.parametrize("sizes, names", [
    ({"tasks": 5121, "quarantine": 900, "coverage": 311}, "data.parquet is 5,121 bytes"),
    ({"tasks": 5120, "quarantine": 900}, "_coverage.json is missing"),
    ({"tasks": 5120, "quarantine": None, "coverage": 311}, "task_quarantine/.* is missing"),
])
def test_files_that_differ_from_the_manifest_name_the_first_one(sizes, names):
    with pytest.raises(ManifestError, match=f"{names}.*interrupted; export that date again"):
        MANIFEST.check_sizes(sizes)


def _tables(n: int) -> tuple[pa.Table, pa.Table]:
    """A night of `n` tasks and no quarantined record."""
    records = [{"task_id": f"t{i:03d}", "task_type": "thumbnail", "status": "COMPLETED"}
               for i in range(n)]
    flat = flatten_tasks(records, NIGHT, datetime(2026, 11, 23, 2, tzinfo=timezone.utc))
    return flat.tasks, QUARANTINE_SCHEMA.empty_table()


@pytest.mark.parametrize("leftover", [
    "tasks/export_date=2026-11-21/data.parquet",         # files put in place, then killed
    "tasks/export_date=not-a-date/_manifest.json",       # a folder of some other tool
    "tasks/_manifest.json",                              # not inside a partition
])
def test_only_nights_with_a_manifest_are_published(tmp_path, leftover):
    tree = SnapshotTree(tmp_path)
    for night in (date(2026, 11, 20), date(2026, 11, 22)):
        publish_tables(tree, night, *_tables(3))
    (tmp_path / leftover).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / leftover).write_bytes(b"{}")
    assert tree.published_dates() == [date(2026, 11, 20), date(2026, 11, 22)]
    assert tree.coverage(date(2026, 11, 21)) is None


def test_a_night_whose_files_were_replaced_without_its_manifest_is_refused(tmp_path):
    tree = SnapshotTree(tmp_path)
    publish_tables(tree, NIGHT, *_tables(3))
    with tree.night(NIGHT) as night:
        assert night.tasks == tmp_path / "tasks/export_date=2026-11-23/data.parquet"
        assert night.coverage is None  # published without a coverage record
    # A re-run killed after renaming its tasks file into place, before its manifest.
    tree_of_rerun = SnapshotTree(tmp_path / "rerun")
    publish_tables(tree_of_rerun, NIGHT, *_tables(30))
    tree_of_rerun.location("tasks", NIGHT).replace(tree.location("tasks", NIGHT))
    with pytest.raises(ManifestError, match="interrupted"):
        with tree.night(NIGHT):
            pass


def test_an_unpublished_night_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no published snapshot for 2026-11-23"):
        with SnapshotTree(tmp_path).night(NIGHT):
            pass
