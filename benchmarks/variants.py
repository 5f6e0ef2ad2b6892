"""One measured variant, run by bench.py in a child process of its own so its peak RSS is its own.

    python benchmarks/variants.py {floor,naive,export,nights} --base-url URL --workdir DIR
                                  [--concurrency N] [--expect ROWS] [--nights N]

Prints one JSON object: rows, seconds (the whole variant) and, for the export, the seconds
and peak RSS of its first stage (export_snapshot: fetch -> flatten -> Parquet), which runs
before the DuckDB load, so the process's peak at that point is the stage's own. Each variant
imports only what it uses, and the clock starts after the imports.
"""

from __future__ import annotations

import argparse
import json
import resource
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
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def floor(args: argparse.Namespace) -> Run:
    """Fetch every page and decode it with the export's own client, nothing else."""
    from mixpeek_tasks.api.paging.keyset import KeysetPaging, split_task_ids
    from mixpeek_tasks.api.transport import MixpeekClient

    def run() -> dict:
        with MixpeekClient(API_KEY, args.base_url) as client:
            pages = KeysetPaging(client, split_task_ids(args.concurrency)).iter_pages(
                concurrency=args.concurrency)
            return {"rows": sum(len(page.tasks) for page in pages)}

    return run


def snapshot(args: argparse.Namespace):
    """export_snapshot, as the task_snapshot asset runs it: every page to a Parquet snapshot."""
    from mixpeek_tasks.api.transport import MixpeekClient
    from mixpeek_tasks.snapshot.export import export_snapshot

    with MixpeekClient(API_KEY, args.base_url) as client:
        return export_snapshot(client, args.workdir / "parquet", EXPORT_DATE,
                               concurrency=args.concurrency, progress=lambda _: None)


def load(warehouse, export_date: date, tasks_path: Path, quarantine_path: Path):
    """Warehouse.load_snapshot, refusing a load that built fewer `tasks` rows than snapshot
    rows (every task here is in every snapshot once): it once built none above 122,880 rows,
    and the time of such a load would mean nothing."""
    loaded = warehouse.load_snapshot(export_date, tasks_path, quarantine_path)
    if loaded.tasks_rows != loaded.snapshot_rows:
        sys.exit(f"{export_date}: {loaded.tasks_rows:,} tasks from "
                 f"{loaded.snapshot_rows:,} snapshot rows")
    return loaded


def export(args: argparse.Namespace) -> Run:
    """The Dagster assets' path: task_snapshot, then warehouse_tasks, then task_analytics."""
    # The imports `snapshot` makes happen here, off the clock.
    import pyarrow as pa

    import mixpeek_tasks.snapshot.export  # noqa: F401
    from mixpeek_tasks.warehouse.database import Warehouse

    pa.array(["warm"])  # pyarrow imports pandas on its first conversion: an import, off the clock

    def run() -> dict:
        started = time.perf_counter()
        result = snapshot(args)
        stage = {"export_seconds": time.perf_counter() - started,
                 "export_peak_mb": peak_rss_mb()}
        warehouse = Warehouse(args.workdir / "warehouse.duckdb")
        loaded = load(warehouse, EXPORT_DATE, result.tasks_path, result.quarantine_path)
        warehouse.build_views()
        return {"rows": loaded.snapshot_rows, **stage}

    return run


def nights(args: argparse.Namespace) -> Run:
    """Load `--nights` nights into one warehouse, as the nightly schedule does, then rebuild.

    The account does not change between nights here: every night is the one export relabelled
    with the next date, so every night's tasks all merge with known ones (the costliest case).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mixpeek_tasks.warehouse.database import Warehouse

    def run() -> dict:
        first = snapshot(args)
        table = pq.read_table(first.tasks_path)
        warehouse = Warehouse(args.workdir / "warehouse.duckdb")
        seconds = []
        for night in range(args.nights):
            export_date = EXPORT_DATE + timedelta(days=night)
            path = args.workdir / f"night-{night}.parquet"
            pq.write_table(table.set_column(
                0, "export_date", pa.repeat(pa.scalar(export_date, pa.date32()),
                                            table.num_rows)), path)
            started = time.perf_counter()
            loaded = load(warehouse, export_date, path, first.quarantine_path)
            seconds.append(time.perf_counter() - started)
        started = time.perf_counter()
        warehouse.rebuild()
        return {"rows": loaded.snapshot_rows, "night_seconds": seconds,
                "rebuild_seconds": time.perf_counter() - started}

    return run


def naive_pipeline(args: argparse.Namespace) -> Run:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import naive

    return lambda: {"rows": naive.run(args.base_url, args.workdir)}


VARIANTS = {"floor": floor, "naive": naive_pipeline, "export": export, "nights": nights}


def main() -> None:
    use_system_allocator()  # as the Dagster code location does, before pyarrow loads
    parser = argparse.ArgumentParser()
    parser.add_argument("variant", choices=VARIANTS)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--expect", type=int, help="fail unless exactly this many rows")
    parser.add_argument("--nights", type=int, default=5, help="nights loaded by `nights`")
    args = parser.parse_args()
    run = VARIANTS[args.variant](args)
    started = time.perf_counter()
    outcome = run()
    outcome["seconds"] = time.perf_counter() - started
    if args.expect is not None and outcome["rows"] != args.expect:
        sys.exit(f"{args.variant}: {outcome['rows']:,} rows, expected {args.expect:,}")
    print(json.dumps(outcome))


if __name__ == "__main__":
    main()
