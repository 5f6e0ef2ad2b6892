"""`make bench`: the export against the fetch-only floor and the naive pipeline, side by side,
a 90-night history loaded night by night, and the next observation after a day's change,
listed in full and by the incremental plan (benchmarks/incremental.py).

Starts the emulator in a process of its own, then runs every variant (benchmarks/variants.py)
in a child process per run, interleaved, `--runs` times, and prints medians: tasks/s, wall
seconds, peak RSS of each step as Dagster runs it (a process each, from wait4 or getrusage),
and the ratios the targets are stated in.
The machine is shared (2 cores: emulator and client compete), so only ratios measured in one
run mean anything.

    python benchmarks/bench.py                  # 100,000 tasks, the 150 ms case, 90 nights
    python benchmarks/bench.py --million        # 1,000,000 tasks: the flat-memory run
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from statistics import median

VARIANTS_SCRIPT = Path(__file__).resolve().parent / "variants.py"
RSS_TARGET_MB = 250
FLOOR_RATIO_TARGET = 0.5
NAIVE_RATIO_TARGET = 2.0
LATENCY_RATIO_TARGET = 1.3
NIGHT_LOAD_TARGET_SECONDS = 1.0  # per 100,000 tasks
NIGHT_FLAT_TARGET = 1.25  # the last measured night against the first appended one
WAREHOUSE_SHARE_TARGET = 0.2


@dataclass(frozen=True)
class Emulator:
    base_url: str
    tasks: int
    startup_seconds: float
    pid: int

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")


@contextlib.contextmanager
def emulator(tasks: int, latency_ms: float = 0.0) -> Iterator[Emulator]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "mixpeek_emulator", "--port", "0", "--tasks", str(tasks),
         "--seed", "1", "--latency-ms", str(latency_ms)],
        stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        if "listening on " not in line:
            raise RuntimeError(f"the emulator did not start: {line!r}")
        base_url = line.split("listening on ")[1].split()[0]
        yield Emulator(base_url, tasks, time.perf_counter() - started, process.pid)
    finally:
        process.terminate()
        process.wait()


@dataclass(frozen=True)
class Measurement:
    seconds: float
    peak_rss_mb: float
    outcome: dict

    def step(self, name: str) -> float:
        """A figure of the export's steps (snapshot_seconds, load_peak_mb, whole_seconds...)."""
        return self.outcome[name]


def measure(variant: str, server: Emulator, concurrency: int, *options: str) -> Measurement:
    """Run one variant in a child process; its peak RSS comes from wait4, the rest from it."""
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{variant}-"))
    try:
        child = subprocess.Popen(
            [sys.executable, str(VARIANTS_SCRIPT), variant, "--base-url", server.base_url,
             "--workdir", str(workdir), "--concurrency", str(concurrency),
             "--expect", str(server.tasks), *options],
            stdout=subprocess.PIPE, text=True)
        output = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            raise RuntimeError(f"{variant} failed with exit code {child.returncode}")
        return Measurement(json.loads(output)["seconds"], usage.ru_maxrss / 1024,
                           json.loads(output))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def interleaved(variants: list[tuple[str, str, int]], server: Emulator,
                runs: int) -> dict[str, list[Measurement]]:
    """`runs` rounds of every (label, variant, concurrency), so drift hits each alike."""
    results: dict[str, list[Measurement]] = {label: [] for label, _, _ in variants}
    for round_number in range(1, runs + 1):
        for label, variant, concurrency in variants:
            result = measure(variant, server, concurrency)
            results[label].append(result)
            print(f"  round {round_number}: {label:<34} {result.seconds:6.2f} s "
                  f"{result.peak_rss_mb:6.0f} MB", file=sys.stderr, flush=True)
    return results


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.machine())
    memory_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text()
                     .splitlines() if line.startswith("MemTotal:"))
    versions = ", ".join(f"{name} {metadata.version(name)}"
                         for name in ("pyarrow", "duckdb", "orjson", "httpx", "pandas"))
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (f"machine: {os.cpu_count()} cores ({cpu}), {memory_kb / 2**20:.0f} GiB, "
            f"load average before: {load}\n"
            f"python {platform.python_version()}, {versions}")


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


ROW_LABELS = {
    "floor": "floor: fetch + decode (the client's loop)",
    "naive": "naive: httpx, json_normalize, pandas",
    "export": "export: snapshot step + load step",
}
STEP_LABELS = {"snapshot": "  snapshot step: export_snapshot -> Parquet",
               "load": "  load step: load + views"}


def throughput_table(tasks: int, runs: int, concurrency: int, with_naive: bool) -> list[str]:
    """Floor, naive (unless left out) and export at `tasks`, with the targets' verdicts."""
    variants = [("floor", "floor", concurrency), ("naive", "naive", 1),
                ("export", "export", concurrency)]
    with emulator(tasks) as server:
        print(f"emulator: {tasks:,} tasks generated and serving in {server.startup_seconds:.1f} s, "
              f"peak RSS {server.peak_rss_mb():,.0f} MB", flush=True)
        results = interleaved([v for v in variants if with_naive or v[0] != "naive"], server,
                              runs)
    rate = {label: tasks / median([r.seconds for r in measured])
            for label, measured in results.items()}
    header = (f"{'variant':<42} {'tasks/s':>9} {'wall s':>7} {'peak RSS MB':>12} "
              f"{'x floor':>8}" + (f" {'x naive':>8}" if with_naive else ""))
    lines = [f"Throughput: {tasks:,} tasks in pages of 1,000, concurrency {concurrency}, "
             f"medians of {runs} interleaved run(s)", header]

    def row(label: str, seconds: float, rss: float) -> str:
        ratios = f"{tasks / seconds / rate['floor']:>8.2f}"
        if with_naive:
            ratios += f" {tasks / seconds / rate['naive']:>8.2f}"
        return f"{label:<42} {tasks / seconds:>9,.0f} {seconds:>7.2f} {rss:>12,.0f} {ratios}"

    lines.append(row(ROW_LABELS["floor"], median([r.seconds for r in results["floor"]]),
                     median([r.peak_rss_mb for r in results["floor"]])))
    if with_naive:
        lines.append(row(ROW_LABELS["naive"], median([r.seconds for r in results["naive"]]),
                         median([r.peak_rss_mb for r in results["naive"]])))
    exports = results["export"]
    whole = median([r.step("whole_seconds") for r in exports])
    lines.append(row(ROW_LABELS["export"], whole,
                     max(r.step(f"{s}_peak_mb") for r in exports for s in STEP_LABELS)))
    for step, label in STEP_LABELS.items():
        lines.append(row(label, median([r.step(f"{step}_seconds") for r in exports]),
                         median([r.step(f"{step}_peak_mb") for r in exports])))
    versus_floor = (tasks / whole) / rate["floor"]
    target_1 = (f"target 1, whole export >= {FLOOR_RATIO_TARGET}x floor: {versus_floor:.2f}x "
                f"{verdict(versus_floor >= FLOOR_RATIO_TARGET)}")
    if with_naive:
        versus_naive = (tasks / whole) / rate["naive"]
        target_1 += (f"; >= {NAIVE_RATIO_TARGET:.0f}x naive: {versus_naive:.2f}x "
                     f"{verdict(versus_naive >= NAIVE_RATIO_TARGET)}")
    peaks = {step: max(r.step(f"{step}_peak_mb") for r in exports) for step in STEP_LABELS}
    return lines + [target_1, (
        f"target 2, peak RSS of every step <= {RSS_TARGET_MB} MB at {tasks:,} (worst run): "
        + ", ".join(f"{step} step {peak:,.0f} MB {verdict(peak <= RSS_TARGET_MB)}"
                    for step, peak in peaks.items()))]


def latency_table(tasks: int, runs: int, latency_ms: float, concurrency: int) -> list[str]:
    """Paging one request at a time against `concurrency` ranges at once, the floor beside."""
    variants = [(f"floor, concurrency {concurrency}", "floor", concurrency),
                ("export, concurrency 1", "export", 1),
                (f"export, concurrency {concurrency}", "export", concurrency)]
    with emulator(tasks, latency_ms) as server:
        results = interleaved(variants, server, runs)
    lines = [f"Latency-bound: {tasks:,} tasks, every page answered after {latency_ms:.0f} ms, "
             f"medians of {runs} runs",
             f"{'variant':<28} {'fetch or to Parquet s':>22} {'+ load + views s':>17} "
             f"{'tasks/s':>9} {'peak RSS MB':>12}"]
    floor = median([r.seconds for r in results[variants[0][0]]])
    for label, variant, _ in variants:
        measured = results[label]
        if variant == "floor":
            stage, whole, rss = floor, "", median([r.peak_rss_mb for r in measured])
        else:
            stage = median([r.step("snapshot_seconds") for r in measured])
            whole = f"{median([r.step('whole_seconds') for r in measured]):.2f}"
            rss = max(r.step(f"{step}_peak_mb") for r in measured for step in STEP_LABELS)
        lines.append(f"{label:<28} {stage:>22.2f} {whole:>17} {tasks / stage:>9,.0f} "
                     f"{rss:>12,.0f}")
    paged = median([r.step("whole_seconds") for r in results[variants[-1][0]]])
    lines.append(f"target 4, whole export within {LATENCY_RATIO_TARGET}x the floor at "
                 f"concurrency {concurrency}: {paged:.2f} s = {paged / floor:.2f}x "
                 f"{verdict(paged <= LATENCY_RATIO_TARGET * floor)}")
    return lines


def nights_table(tasks: int, nights: int, concurrency: int) -> list[str]:
    """The warehouse over a long history (benchmarks/history.py): each nightly load, the
    file's size against the tree's, then a rebuild of them all."""
    with emulator(tasks) as server:
        outcome = measure("nights", server, concurrency, f"--nights={nights}").outcome
    loads = {int(night): load for night, load in outcome["loads"].items()}
    measured = [night for night in sorted(loads) if "peak_mb" in loads[night]]
    per_100k = 100_000 / tasks
    slowest = max(loads, key=lambda night: loads[night]["seconds"])
    worst = max(loads[night]["seconds"] for night in measured) * per_100k
    flat = loads[measured[-1]]["seconds"] / loads[measured[1]]["seconds"]
    share = outcome["warehouse_mb"] / outcome["parquet_mb"]
    peak = max(loads[night]["peak_mb"] for night in measured)
    return [
        f"Nightly loads: {nights} nights of {tasks:,} tasks (each night "
        f"{outcome['new_per_night']:,} new, as many finishing, 2% fallback records), "
        f"generated in {outcome['generate_seconds']:.0f} s, loaded one by one",
        "load of night " + ", ".join(
            f"{night}: {loads[night]['seconds']:.2f} s ({loads[night]['peak_mb']:,.0f} MB)"
            for night in measured)
        + f"; slowest of all: night {slowest}, {loads[slowest]['seconds']:.2f} s",
        f"after {nights} nights: warehouse {outcome['warehouse_mb']:,.1f} MB, Parquet tree "
        f"{outcome['parquet_mb']:,.1f} MB ({share:.2f}x), {outcome['tasks_rows']:,} tasks",
        f"rebuild of all {nights} nights from the tree: {outcome['rebuild_seconds']:.1f} s",
        f"target 3, a night's load <= {NIGHT_LOAD_TARGET_SECONDS:.0f} s per 100,000 tasks: "
        f"{worst:.2f} s {verdict(worst <= NIGHT_LOAD_TARGET_SECONDS)}; flat (night "
        f"{measured[-1]} / night {measured[1]}): {flat:.2f}x "
        f"{verdict(flat <= NIGHT_FLAT_TARGET)}; warehouse <= {WAREHOUSE_SHARE_TARGET}x the "
        f"tree: {share:.2f}x {verdict(share <= WAREHOUSE_SHARE_TARGET)}; load step peak RSS "
        f"{peak:,.0f} MB {verdict(peak <= RSS_TARGET_MB)}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, default=150.0)
    parser.add_argument("--nights", type=int, default=90, help="nights in the nightly-load run")
    parser.add_argument("--million", action="store_true",
                        help="1,000,000 tasks, floor and export once each: the flat-memory run")
    args = parser.parse_args()
    started = time.perf_counter()
    print(machine(), flush=True)
    if args.million:
        lines = throughput_table(1_000_000, 1, args.concurrency, with_naive=False)
    else:
        lines = throughput_table(args.tasks, args.runs, args.concurrency, with_naive=True)
        lines += [""] + latency_table(args.tasks, args.runs, args.latency_ms, args.concurrency)
        lines += [""] + nights_table(args.tasks, args.nights, args.concurrency)
        from incremental import incremental_table  # beside this script: benchmarks/
        lines += [""] + incremental_table(args.concurrency, args.tasks)
    print("\n" + "\n".join(lines))
    print(f"\n(benchmark took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
