"""BI tools never block a load, and a load never blocks them: a reader holding the warehouse
open and querying it in a loop through three loads, each of a new observation."""

import json
import shutil
import subprocess
import sys
import time

import pytest

from mixpeek_emulator import running_emulator
from mixpeek_tasks.api.transport import MixpeekClient
from mixpeek_tasks.snapshot.export import export_snapshot
from mixpeek_tasks.snapshot.parquet_files import METADATA_FOLDER
from mixpeek_tasks.snapshot.tree import SnapshotTree
from mixpeek_tasks.warehouse.database import Warehouse
from tests.support import ROOT

OBSERVATIONS = 4


def _snapshots(root):
    """Four observations of one account, exported once into a source tree, for loads timed
    with and without a reader; their ids, oldest first."""
    ids = []
    with running_emulator(tasks=20_000, seed=31) as server:
        with MixpeekClient("k", server.base_url) as client:
            for _ in range(OBSERVATIONS):
                server.store.churn(2_000)
                ids.append(export_snapshot(client, root / "source", progress=lambda _: None)
                           .observation.id)
    return ids


def _publish(root, warehouse, observation_id):
    """The source tree's observation, copied into the warehouse's own tree, whole."""
    for dataset in ("tasks", "task_quarantine", METADATA_FOLDER):
        folder = f"{dataset}/observation={observation_id}"
        shutil.copytree(root / "source" / folder, warehouse.tree.root / folder)


def _load_three_nights(root, warehouse, snapshots):
    seconds = []
    for observation_id in snapshots[1:]:
        _publish(root, warehouse, observation_id)
        started = time.perf_counter()
        assert warehouse.load().observations_loaded == 1
        warehouse.build_views()
        seconds.append(time.perf_counter() - started)
    return seconds


@pytest.mark.slow
def test_a_reader_held_open_through_three_loads_never_waits_nor_sees_a_mix(tmp_path):
    snapshots = _snapshots(tmp_path)
    alone, read = (Warehouse(tmp_path / name / "warehouse.duckdb",
                             SnapshotTree(tmp_path / name / "parquet"))
                   for name in ("alone", "read"))
    for warehouse in (alone, read):
        _publish(tmp_path, warehouse, snapshots[0])
        warehouse.load()
        warehouse.build_views()
    without_reader = _load_three_nights(tmp_path, alone, snapshots)

    stop = tmp_path / "stop"
    readers = {mode: subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "support" / "reader_child.py"), mode,
         str(read.path), str(stop)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
        for mode in ("held", "fresh")}
    time.sleep(1.0)  # the readers are connected before the first load starts
    with_reader = _load_three_nights(tmp_path, read, snapshots)
    time.sleep(0.5)
    stop.touch()
    seen = {mode: json.loads(reader.communicate(timeout=60)[0])
            for mode, reader in readers.items()}

    queries = sum(s["queries"] for s in seen.values())
    errors = [e for s in seen.values() for e in s["errors"]]
    print(f"loads without readers {[round(s, 2) for s in without_reader]} s, with two "
          f"{[round(s, 2) for s in with_reader]} s; {queries} queries, {len(errors)} errors")
    assert errors == []
    assert sum(with_reader) < 2 * sum(without_reader) + 3  # nothing waited on a reader's lock
    # The held connection keeps the observation it opened; fresh ones move forward one by one;
    # each sees one observation whole: the views, `tasks` and the snapshots agree.
    assert {row[0] for row in seen["held"]["rows"]} == {snapshots[0]}
    nights = [row[0] for row in seen["fresh"]["rows"]]
    assert nights == sorted(nights) and nights[-1] == snapshots[-1]
    assert len(set(nights)) >= 2
    for _, tasks_in_views, tasks, distinct in seen["held"]["rows"] + seen["fresh"]["rows"]:
        assert tasks_in_views == tasks == distinct
    shutil.rmtree(tmp_path / "source")
