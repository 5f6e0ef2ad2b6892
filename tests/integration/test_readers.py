"""BI tools never block the nightly load, and the load never blocks them: a reader holding
the warehouse open and querying it in a loop through three nightly loads."""

import json
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta

import pytest

from mixpeek_emulator import running_emulator
from mixpeek_tasks.api.transport import MixpeekClient
from mixpeek_tasks.snapshot.export import export_snapshot
from mixpeek_tasks.snapshot.tree import SnapshotTree
from mixpeek_tasks.warehouse.database import Warehouse
from tests.support import ROOT

NIGHTS = [date(2026, 11, 20) + timedelta(days=n) for n in range(4)]


def _snapshots(root):
    """Four nights of one account, exported once, for loads timed with and without a reader."""
    paths = []
    with running_emulator(tasks=20_000, seed=31) as server:
        with MixpeekClient("k", server.base_url) as client:
            for night in NIGHTS:
                server.store.churn(2_000)
                export_snapshot(client, root / "parquet", progress=lambda _: None)
                paths.append(night)
    return paths


def _load_three_nights(warehouse, snapshots):
    seconds = []
    for night in snapshots[1:]:
        started = time.perf_counter()
        warehouse.load()
        warehouse.build_views()
        seconds.append(time.perf_counter() - started)
    return seconds


@pytest.mark.slow
def test_a_reader_held_open_through_three_loads_never_waits_nor_sees_a_mix(tmp_path):
    snapshots = _snapshots(tmp_path)
    tree = SnapshotTree(tmp_path / "parquet")
    alone, read = (Warehouse(tmp_path / name / "warehouse.duckdb", tree)
                   for name in ("alone", "read"))
    for warehouse in (alone, read):
        warehouse.path.parent.mkdir()
        warehouse.load()
        warehouse.build_views()
    without_reader = _load_three_nights(alone, snapshots)

    stop = tmp_path / "stop"
    readers = {mode: subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "support" / "reader_child.py"), mode,
         str(read.path), str(stop)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
        for mode in ("held", "fresh")}
    time.sleep(1.0)  # the readers are connected before the first load starts
    with_reader = _load_three_nights(read, snapshots)
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
    # The held connection keeps the night it opened; fresh ones move forward night by night;
    # each sees one night whole: the views, `tasks` and the snapshots agree.
    assert {row[0] for row in seen["held"]["rows"]} == {str(NIGHTS[0])}
    nights = [row[0] for row in seen["fresh"]["rows"]]
    assert nights == sorted(nights) and nights[-1] == str(NIGHTS[-1])
    assert len(set(nights)) >= 2
    for _, tasks_in_views, tasks, distinct in seen["held"]["rows"] + seen["fresh"]["rows"]:
        assert tasks_in_views == tasks == distinct
    shutil.rmtree(tmp_path / "parquet")
