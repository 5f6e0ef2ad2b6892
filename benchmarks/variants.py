"""One measured variant, run by bench.py in a child process of its own so its peak RSS is its own.

    python benchmarks/variants.py {floor,naive,export,nights,load} --base-url URL --workdir DIR
                                  [--concurrency N] [--expect ROWS] [--nights N] [--date D]

Prints one JSON object: rows, seconds (the whole variant), peak_mb and, for the export, each
step as Dagster runs it: export_snapshot (fetch -> flatten -> Parquet) in this process, timed
and RSS-measured before the load starts, then the load and the views in a step process of
their own (`load`). Each variant imports only what it uses, and the clock starts after the
imports.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from mixpeek_tasks.process import use_system_allocator

EXPORT_DATE = date(2026, 11, 23)
API_KEY = "bench-key"

Run = Callable[[], dict]


def peak_rss_mb() -> float:
    """This process's peak RSS. Not getrusage's ru_maxrss: Linux carries it over from the
    parent across fork and exec, so a step started by a bigger process reported the parent's."""
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:"))
               .split()[1]) / 1024


def floor(args: argparse.Namespace) -> Run:
    """Fetch every page and decode it with the export's own client, nothing else."""
    from mixpeek_tasks.api.paging.keyset import KeysetPaging, split_task_ids
    from mixpeek_tasks.api.paging.runner import PagingRunner
    from mixpeek_tasks.api.transport import MixpeekClient

    def run() -> dict:
        with MixpeekClient(API_KEY, args.base_url) as client:
            pages = PagingRunner.of(client).pages(KeysetPaging(split_task_ids(args.concurrency)),
                                                  concurrency=args.concurrency)
            return {"rows": sum(len(page.tasks) for page in pages)}

    return run


def snapshot(args: argparse.Namespace, tree: str = "parquet"):
    """export_snapshot, as the task_snapshot asset runs it: every page to a Parquet snapshot
    (an observation) in the tree `tree` of the workdir."""
    from mixpeek_tasks.api.transport import MixpeekClient
    from mixpeek_tasks.snapshot.export import export_snapshot

    with MixpeekClient(API_KEY, args.base_url) as client:
        return export_snapshot(client, args.workdir / tree,
                               concurrency=args.concurrency, progress=lambda _: None)


def load_step(workdir: Path, with_views: bool) -> dict:
    """warehouse_tasks (and task_analytics' views) as Dagster runs them: a step process of its
    own, holding what the code location imports. Its seconds start after those imports; its
    peak RSS is the whole process's."""
    child = subprocess.run(
        [sys.executable, __file__, "load", "--base-url", "-", "--workdir", str(workdir),
         *(["--views"] if with_views else [])],
        stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(child.stdout)


def load(args: argparse.Namespace) -> Run:
    """One night's load in this process, after importing the code location (dagster, pandas,
    pyarrow, duckdb), as a Dagster step process has them."""
    import pipelines.definitions  # noqa: F401
    from mixpeek_tasks.warehouse.database import Warehouse

    def run() -> dict:
        warehouse = Warehouse(args.workdir / "warehouse.duckdb")
        loaded = warehouse.load()
        if args.views:
            warehouse.build_views()
        return {"rows": loaded.snapshot_rows, "tasks_rows": loaded.tasks_rows,
                "appended": loaded.appended}

    return run


def export(args: argparse.Namespace) -> Run:
    """The Dagster assets' path: task_snapshot in this process, then warehouse_tasks and
    task_analytics' views in a step process of their own, as Dagster runs them."""
    # The imports `snapshot` makes happen here, off the clock.
    import pyarrow as pa

    import mixpeek_tasks.snapshot.export  # noqa: F401

    pa.array(["warm"])  # pyarrow imports pandas on its first conversion: an import, off the clock

    def run() -> dict:
        started = time.perf_counter()
        result = snapshot(args)
        stage = {"snapshot_seconds": time.perf_counter() - started,
                 "snapshot_peak_mb": peak_rss_mb()}
        loaded = load_step(args.workdir, with_views=True)
        # Every task here is in the snapshot once: a load that built fewer `tasks` rows (as one
        # once built none above 122,880 rows) would time nothing.
        if loaded["tasks_rows"] != result.rows:
            sys.exit(f"{loaded['tasks_rows']:,} tasks from {result.rows:,} snapshot rows")
        return {"rows": loaded["rows"], **stage, "load_seconds": loaded["seconds"],
                "load_peak_mb": loaded["peak_mb"],
                "whole_seconds": stage["snapshot_seconds"] + loaded["seconds"]}

    return run


def nights(args: argparse.Namespace) -> Run:
    """`--nights` nights of a 100,000-task account (benchmarks/history.py) loaded one by one
    into one warehouse, as the nightly schedule does, then rebuilt from the tree. Loads at the
    nights in MEASURED_NIGHTS run as Dagster steps (a process of their own, for their RSS).
    Each night is published just before its load, as the schedule's observation would be; the
    export the nights grow from stays in a tree of its own."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import history

    from mixpeek_tasks.snapshot.tree import SnapshotTree
    from mixpeek_tasks.warehouse.database import Warehouse

    def run() -> dict:
        first = snapshot(args, tree="template")
        base = history.base_of(first.tasks_path)
        tree = SnapshotTree(args.workdir / "parquet")
        generated = 0.0
        warehouse = Warehouse(args.workdir / "warehouse.duckdb")
        loads = {}
        for number in range(1, args.nights + 1):
            started = time.perf_counter()
            history.write_night(tree, base, number - 1,
                                EXPORT_DATE + timedelta(days=number - 1))
            generated += time.perf_counter() - started
            if number in history.measured_nights(args.nights):
                step = load_step(args.workdir, with_views=False)
                loads[number] = {"seconds": step["seconds"], "peak_mb": step["peak_mb"]}
                continue
            started = time.perf_counter()
            loaded = warehouse.load()
            loads[number] = {"seconds": time.perf_counter() - started}
            if not loaded.appended:
                sys.exit(f"night {number} was rebuilt, not appended")
        warehouse.build_views()
        sizes = {"warehouse_mb": warehouse.path.stat().st_size / 2**20,
                 "parquet_mb": sum(f.stat().st_size for f in (args.workdir / "parquet").rglob("*")
                                   if f.is_file()) / 2**20}
        started = time.perf_counter()
        warehouse.rebuild()
        return {"rows": first.rows, "generate_seconds": generated, "loads": loads, **sizes,
                "new_per_night": history.NEW_PER_NIGHT,
                "rebuild_seconds": time.perf_counter() - started,
                "tasks_rows": warehouse.query("SELECT count(*) FROM tasks").rows[0][0]}

    return run


def naive_pipeline(args: argparse.Namespace) -> Run:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import naive

    return lambda: {"rows": naive.run(args.base_url, args.workdir)}


VARIANTS = {"floor": floor, "naive": naive_pipeline, "export": export, "nights": nights,
            "load": load}


def main() -> None:
    use_system_allocator()  # as the Dagster code location does, before pyarrow loads
    parser = argparse.ArgumentParser()
    parser.add_argument("variant", choices=VARIANTS)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--expect", type=int, help="fail unless exactly this many rows")
    parser.add_argument("--nights", type=int, default=90, help="nights loaded by `nights`")
    parser.add_argument("--views", action="store_true", help="`load` also builds the views")
    args = parser.parse_args()
    run = VARIANTS[args.variant](args)
    started = time.perf_counter()
    outcome = run()
    outcome["seconds"] = time.perf_counter() - started
    outcome["peak_mb"] = peak_rss_mb()
    if args.expect is not None and outcome["rows"] != args.expect:
        sys.exit(f"{args.variant}: {outcome['rows']:,} rows, expected {args.expect:,}")
    print(json.dumps(outcome))


if __name__ == "__main__":
    main()
