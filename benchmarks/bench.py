"""`make bench`: the export against the fetch-only floor and the naive pipeline, side by side.

Starts the emulator in a process of its own, then runs every variant (benchmarks/variants.py)
in a child process per run, interleaved, `--runs` times, and prints medians: tasks/s, wall
seconds, peak RSS (each child's own, from wait4), and the ratios the targets are stated in.
The machine is shared (2 cores: emulator and client compete), so only ratios measured in one
run mean anything.

    python benchmarks/bench.py                  # 100,000 tasks + the 150 ms latency case
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
FLOOR_RATIO_TARGET = 0.7
NAIVE_RATIO_TARGET = 4.0
LATENCY_TARGET_SECONDS = 5.0


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
    export_seconds: float | None
    export_peak_mb: float | None
    outcome: dict


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
        outcome = json.loads(output)
        return Measurement(outcome["seconds"], usage.ru_maxrss / 1024,
                           outcome.get("export_seconds"), outcome.get("export_peak_mb"), outcome)
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
    "export": "export: export_snapshot + load + views",
}
STAGE_LABEL = "  of which export_snapshot (-> Parquet)"


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

    for label, measured in results.items():
        lines.append(row(ROW_LABELS[label], median([r.seconds for r in measured]),
                         median([r.peak_rss_mb for r in measured])))
    exports = results["export"]
    lines.append(row(STAGE_LABEL, median([r.export_seconds for r in exports]),
                     median([r.export_peak_mb for r in exports])))
    versus_floor = rate["export"] / rate["floor"]
    target_1 = (f"target 1, whole export >= {FLOOR_RATIO_TARGET}x floor: {versus_floor:.2f}x "
                f"{verdict(versus_floor >= FLOOR_RATIO_TARGET)}")
    if with_naive:
        versus_naive = rate["export"] / rate["naive"]
        target_1 += (f"; >= {NAIVE_RATIO_TARGET:.0f}x naive: {versus_naive:.2f}x "
                     f"{verdict(versus_naive >= NAIVE_RATIO_TARGET)}")
    stage_rss = max(r.export_peak_mb for r in exports)
    whole_rss = max(r.peak_rss_mb for r in exports)
    return lines + [target_1, (
        f"target 2, peak RSS <= {RSS_TARGET_MB} MB at {tasks:,} (worst run): export_snapshot "
        f"{stage_rss:,.0f} MB {verdict(stage_rss <= RSS_TARGET_MB)}; with the DuckDB load "
        f"{whole_rss:,.0f} MB {verdict(whole_rss <= RSS_TARGET_MB)}")]


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
    for label, variant, _ in variants:
        measured = results[label]
        total = median([r.seconds for r in measured])
        stage = total if variant == "floor" else median([r.export_seconds for r in measured])
        whole = "" if variant == "floor" else f"{total:.2f}"
        lines.append(f"{label:<28} {stage:>22.2f} {whole:>17} {tasks / stage:>9,.0f} "
                     f"{median([r.peak_rss_mb for r in measured]):>12,.0f}")
    paged = median([r.export_seconds for r in results[variants[-1][0]]])
    lines.append(f"target 3, export_snapshot <= {LATENCY_TARGET_SECONDS:.0f} s with concurrency "
                 f"{concurrency}: {paged:.2f} s {verdict(paged <= LATENCY_TARGET_SECONDS)}")
    return lines


def nights_table(tasks: int, nights: int, concurrency: int) -> list[str]:
    """The warehouse over a growing history: each nightly load, then a rebuild of them all."""
    with emulator(tasks) as server:
        outcome = measure("nights", server, concurrency, f"--nights={nights}")
    each = outcome.outcome["night_seconds"]
    return [
        f"Nightly loads: {tasks:,} tasks listed every night, {nights} nights into one warehouse",
        "load of night " + ", ".join(f"{n}: {s:.2f} s" for n, s in enumerate(each, start=1)),
        f"rebuild of all {nights} nights ({nights * tasks:,} snapshot rows): "
        f"{outcome.outcome['rebuild_seconds']:.2f} s; peak RSS {outcome.peak_rss_mb:,.0f} MB"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, default=150.0)
    parser.add_argument("--nights", type=int, default=5, help="nights in the nightly-load run")
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
    print("\n" + "\n".join(lines))
    print(f"\n(benchmark took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
