"""An observation's manifest: what it promises, what it refuses, and how the tree trusts it;
and how the tree reads the nights of an earlier tree (`export_date=` folders)."""

from datetime import date, datetime, timezone

import orjson
import pyarrow as pa
import pytest

from mixpeek_tasks.snapshot.flatten import QUARANTINE_SCHEMA, flatten_tasks
from mixpeek_tasks.snapshot.manifest import Manifest, ManifestEntry, ManifestError
from mixpeek_tasks.snapshot.observation import Observation
from mixpeek_tasks.snapshot.tree import SnapshotTree
from tests.support.snapshots import legacy_night, observation_at, publish_tables

READ_AT = datetime(2026, 11, 23, 2, 0, 13, tzinfo=timezone.utc)
OBSERVATION = observation_at(READ_AT)
FOLDER = "observation=2026-11-23T020013Z"
MANIFEST = Manifest(FOLDER, datetime(2026, 11, 23, 2, 5, tzinfo=timezone.utc), {
    "tasks": ManifestEntry(f"tasks/{FOLDER}/data.parquet", 5120, 40),
    "quarantine": ManifestEntry(f"task_quarantine/{FOLDER}/data.parquet", 900, 0),
    "coverage": ManifestEntry(f"_observations/{FOLDER}/_coverage.json", 311),
}, READ_AT, datetime(2026, 11, 23, 2, 4, 50, tzinfo=timezone.utc))
LEGACY = Manifest("export_date=2026-11-23", MANIFEST.published_at, MANIFEST.files)


def _saved(**changes) -> bytes:
    saved = orjson.loads(MANIFEST.to_json())
    saved.update(changes)
    return orjson.dumps(saved)


def test_a_manifest_reads_back_as_written_with_its_listing_times():
    assert OBSERVATION.folder == FOLDER
    assert Manifest.from_json(MANIFEST.to_json(), FOLDER) == MANIFEST
    assert Manifest.from_json(LEGACY.to_json(), "export_date=2026-11-23") == LEGACY
    assert orjson.loads(LEGACY.to_json())["version"] == 1


@pytest.mark.parametrize("raw, says", [
    (b"", "unreadable"),
    (b'{"version": 2, "observation": "2026-11-23T020013Z"', "unreadable"),  # a torn write
    (_saved(version=3), "version 3"),
    (_saved(observation="2026-11-22T020013Z"), "names observation=2026-11-22T020013Z"),
    (_saved(files={"tasks": {"path": "x", "bytes": "many", "rows": 1}}), "unreadable"),
    (_saved(files={"tasks": {"path": "x", "rows": 1}}), "unreadable"),
    (_saved(published_at="last night"), "unreadable"),
    (_saved(listing_started_at="early"), "unreadable"),
])
def test_a_damaged_or_foreign_manifest_is_refused(raw, says):
    with pytest.raises(ManifestError, match=says):
        Manifest.from_json(raw, FOLDER)


@pytest.mark.parametrize("sizes, names", [
    ({"tasks": 5121, "quarantine": 900, "coverage": 311}, "data.parquet is 5,121 bytes"),
    ({"tasks": 5120, "quarantine": 900}, "_coverage.json is missing"),
    ({"tasks": 5120, "quarantine": None, "coverage": 311}, "task_quarantine/.* is missing"),
])
def test_files_that_differ_from_the_manifest_name_the_first_one(sizes, names):
    with pytest.raises(ManifestError, match=f"{names}.*interrupted; run the export again"):
        MANIFEST.check_sizes(sizes)


def _tables(n: int) -> tuple[pa.Table, pa.Table]:
    """A night of `n` tasks and no quarantined record."""
    records = [{"task_id": f"t{i:03d}", "task_type": "thumbnail", "status": "COMPLETED"}
               for i in range(n)]
    flat = flatten_tasks(records, OBSERVATION.observed_on, READ_AT)
    return flat.tasks, QUARANTINE_SCHEMA.empty_table()


@pytest.mark.parametrize("leftover", [
    "tasks/observation=2026-11-21T020000Z/data.parquet",  # files put in place, then killed
    "_observations/observation=not-an-id/_manifest.json",  # a folder of some other tool
    "tasks/export_date=not-a-date/_manifest.json",
    "_observations/_manifest.json",                        # not inside an observation's folder
    # where manifests were before they left the data folders: not published
    "tasks/observation=2026-11-21T020000Z/_manifest.json",
])
def test_only_observations_with_a_manifest_are_published(tmp_path, leftover):
    tree = SnapshotTree(tmp_path)
    first, second = (observation_at(datetime(2026, 11, day, 2, tzinfo=timezone.utc))
                     for day in (20, 22))
    for observation in (second, first):
        publish_tables(tree, observation, *_tables(3))
    (tmp_path / leftover).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / leftover).write_bytes(b"{}")
    assert [o.id for o in tree.observations()] == [first.id, second.id]
    unpublished = Observation.new("2026-11-21T020000Z")
    assert tree.coverage(unpublished) is None and not tree.is_published(unpublished.id)


def test_an_observation_whose_files_were_replaced_without_its_manifest_is_refused(tmp_path):
    tree = SnapshotTree(tmp_path)
    publish_tables(tree, OBSERVATION, *_tables(3))
    with tree.files(OBSERVATION) as files:
        assert files.tasks == tmp_path / f"tasks/{FOLDER}/data.parquet"
        assert files.coverage is None  # published without a coverage record
        assert (files.observation.listing_started_at,
                files.observation.listing_finished_at) == (READ_AT, READ_AT)
    # Another publish of the same folder killed after renaming its tasks file into place,
    # before its manifest.
    other = SnapshotTree(tmp_path / "other")
    publish_tables(other, OBSERVATION, *_tables(30))
    other.location("tasks", OBSERVATION).replace(tree.location("tasks", OBSERVATION))
    with pytest.raises(ManifestError, match="interrupted"):
        with tree.files(OBSERVATION):
            pass


def test_an_unpublished_observation_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="observation 2026-11-23T020013Z is not"):
        with SnapshotTree(tmp_path).files(OBSERVATION):
            pass


def test_a_night_of_an_earlier_tree_is_the_observation_its_files_show_not_its_label(tmp_path):
    # `--date 2026-11-18` run on the 23rd wrote today's listing under the 18th: the folder's
    # date is a label; the pages were read on the 23rd, and that is when it was observed.
    tree = SnapshotTree(tmp_path)
    first_page, last_page = READ_AT, datetime(2026, 11, 23, 2, 7, 1, tzinfo=timezone.utc)
    records = [{"task_id": f"t{i}", "task_type": "thumbnail", "status": "COMPLETED"}
               for i in range(3)]
    pages = [flatten_tasks(records[:2], date(2026, 11, 18), first_page),
             flatten_tasks(records[2:], date(2026, 11, 18), last_page)]
    publish_tables(tree, legacy_night(date(2026, 11, 18)),
                   pa.concat_tables([p.tasks for p in pages]), QUARANTINE_SCHEMA.empty_table())
    publish_tables(tree, observation_at(datetime(2026, 11, 22, 2, tzinfo=timezone.utc)),
                   *_tables(1))
    (earlier, night) = tree.observations()
    assert earlier.id == "2026-11-22T020000Z" and not earlier.legacy
    assert (night.id, night.folder, night.observed_on) == (
        "2026-11-23T020013Z", "export_date=2026-11-18", date(2026, 11, 23))
    assert (night.listing_started_at, night.listing_finished_at) == (first_page, last_page)
    with tree.files(night) as files:
        assert files.observation == night
        assert files.tasks == tmp_path / "tasks/export_date=2026-11-18/data.parquet"
