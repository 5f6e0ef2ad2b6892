"""`make bench`, issue 20: what an observation costs after a day's change, a full listing
against the incremental plan, in requests and seconds.

The account (the emulator, in this process: the day's change is made in its store) is
observed once in full (export_snapshot, into a Parquet tree); then a day passes: 2% of the
account is created and 2% of it finishes. The next observation is measured twice, from copies
of the same tree, in a child process each (so the emulator's thread has this process to
itself): listing every task (`full`), and by the incremental plan (the tasks created since the
last observation began less the clock margin, the unfinished tasks of the last one by task_id
`in` batches, the counts that check it). Each is the whole observation as the asset runs it:
probe, pages, Parquet, checks, publish.

At a budget of 10 requests a minute the time is the budget's wait for that many requests
(RequestBudget.seconds_for), computed, not waited for. At 1,000,000 tasks the requests are
computed from the plan (a page per 1,000 tasks listed, an `in` batch per 1,000 unfinished
ids, with the shares measured at 100,000) and the seconds scaled from 100,000.

    python benchmarks/incremental.py            # alone; bench.py prints it with the rest
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DAY_SHARE = 0.02
BUDGET_PER_MINUTE = 10
PAGE_SIZE = 1000
API_KEY = "bench-key"
# A full listing every this many observations, the setting's default; the day measured is the
# one after a full listing, so its plan is incremental.
FULL_EVERY = 7


def observation(base_url: str, tree: str, concurrency: int, *, full: bool) -> dict:
    """One observation into `tree` (which holds the last one), as the asset runs it: probe,
    the plan or the strategy, pages to Parquet, the checks, the publish."""
    from mixpeek_tasks.api.transport import MixpeekClient
    from mixpeek_tasks.snapshot.export import export_snapshot

    with MixpeekClient(API_KEY, base_url, page_size=PAGE_SIZE) as client:
        result = export_snapshot(client, tree, concurrency=concurrency, full=full,
                                 full_every=FULL_EVERY, progress=lambda _: None)
    coverage = result.coverage
    facts = coverage.strategy_facts if coverage.increment else {}
    return {"rows": result.rows + result.quarantined, "requests": result.requests,
            "seconds": result.seconds, "strategy": coverage.strategy,
            "reason": coverage.reason, "verdict": coverage.verdict,
            "new_listed": facts.get("new_listed", 0),
            "unfinished_asked": facts.get("unfinished_asked", 0),
            "id_batches": facts.get("id_batches", 0)}


def _child(*options: str) -> dict:
    output = subprocess.run([sys.executable, __file__, *options], check=True,
                            stdout=subprocess.PIPE, text=True).stdout
    return json.loads(output)


def measured_day(tasks: int, concurrency: int) -> dict:
    """A complete observation of a generated account, a day's change, then the next
    observation twice from copies of the same tree: listing every task, and by the plan."""
    from mixpeek_emulator import running_emulator
    from mixpeek_tasks.api.paging.changes import FINISHED

    with running_emulator(tasks, seed=1) as server, tempfile.TemporaryDirectory() as scratch:
        common = ["--base-url", server.base_url, "--concurrency", str(concurrency)]
        first = Path(scratch) / "first"
        _child("full", *common, "--tree", str(first))
        store = server.store
        with store.lock:
            unfinished = sum(t["status"] not in FINISHED for t in store.tasks.values())
            store.create(round(tasks * DAY_SHARE))
            store.finish(round(tasks * DAY_SHARE))
            now_listed = len(store.tasks)
        trees = {kind: Path(scratch) / kind for kind in ("full", "incremental")}
        for tree in trees.values():
            shutil.copytree(first, tree)
        full = _child("full", *common, "--tree", str(trees["full"]))
        plan = _child("incremental", *common, "--tree", str(trees["incremental"]))
    if full["rows"] != now_listed:
        sys.exit(f"the full listing read {full['rows']:,} tasks of {now_listed:,}")
    if plan["strategy"] != "incremental":
        sys.exit(f"the next observation was not incremental: {plan['reason']}")
    return {"tasks": tasks, "full": full, "incremental": plan,
            "unfinished_share": unfinished / tasks}


def planned_day(tasks: int, measured: dict) -> dict:
    """The same day at `tasks`, from the plan: requests as pages and batches, the new and
    unfinished shares and the fixed requests (probe, questions, counts, last short pages) as
    measured, seconds scaled from the measured account."""
    from mixpeek_tasks.api.paging.changes import IDS_PER_REQUEST

    scale = tasks / measured["tasks"]
    full, plan = measured["full"], measured["incremental"]
    full_pages = -(-full["rows"] // PAGE_SIZE)
    new_pages = -(-plan["new_listed"] // PAGE_SIZE)
    fixed_full = full["requests"] - full_pages
    fixed_plan = plan["requests"] - new_pages - plan["id_batches"]
    new = round(plan["new_listed"] * scale)
    unfinished = round(measured["unfinished_share"] * tasks)
    return {"tasks": tasks,
            "full": {"requests": fixed_full + -(-round(full["rows"] * scale) // PAGE_SIZE),
                     "seconds": full["seconds"] * scale},
            "incremental": {"requests": fixed_plan + -(-new // PAGE_SIZE)
                            + -(-unfinished // IDS_PER_REQUEST),
                            "seconds": plan["seconds"] * scale, "new_listed": new,
                            "unfinished_asked": unfinished}}


def incremental_table(concurrency: int = 4, tasks: int = 100_000,
                      planned: int = 1_000_000) -> list[str]:
    from mixpeek_tasks.api.budget import RequestBudget, duration

    budget = RequestBudget(BUDGET_PER_MINUTE)
    measured = measured_day(tasks, concurrency)
    days = [(measured, "measured"), (planned_day(planned, measured), "from the plan")]
    lines = [
        f"Incremental observations: the next observation after a day's change ({DAY_SHARE:.0%} "
        f"new, {DAY_SHARE:.0%} finishing), pages of {PAGE_SIZE:,}, concurrency {concurrency}",
        f"{'tasks':>10}  {'listing':<12} {'new':>7} {'re-read':>8} {'requests':>9} "
        f"{'s, no latency':>14} {f'at {BUDGET_PER_MINUTE} requests/min':>20}  how"]
    for day, how in days:
        for kind in ("full", "incremental"):
            row = day[kind]
            new = f"{row['new_listed']:,}" if kind == "incremental" else ""
            again = f"{row['unfinished_asked']:,}" if kind == "incremental" else ""
            lines.append(
                f"{day['tasks']:>10,}  {kind:<12} {new:>7} {again:>8} {row['requests']:>9,} "
                f"{row['seconds']:>14.2f} {duration(budget.seconds_for(row['requests'])):>20}  "
                + (how if how == "measured" else f"{how}, seconds x{planned // tasks}"))
        ratio = day["full"]["requests"] / day["incremental"]["requests"]
        lines.append(f"{'':>10}  requests: {ratio:.1f}x fewer by the plan")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("role", nargs="?", choices=("full", "incremental"),
                        help="(a child's role) one observation into --tree, printed as JSON")
    parser.add_argument("--base-url")
    parser.add_argument("--tree")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--tasks", type=int, default=100_000)
    args = parser.parse_args()
    if args.role:
        print(json.dumps(observation(args.base_url, args.tree, args.concurrency,
                                     full=args.role == "full")))
    else:
        print("\n".join(incremental_table(args.concurrency, args.tasks)))


if __name__ == "__main__":
    main()
