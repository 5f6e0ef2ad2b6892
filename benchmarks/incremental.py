"""`make bench`, issue 20: what an observation costs after a day's change, a full listing
against the incremental plan, in requests and seconds.

The account (the emulator, in this process: the day's change is made in its store) is listed
as the last complete observation saw it; then a day passes: 2% of the account is created and
2% of it finishes. The next observation is measured twice, in a child process each (so the
emulator's thread has this process to itself): the full listing (probe, the chosen strategy's
pages, the end counts) and the incremental plan's reads (probe and its questions on the
filters, the tasks created since the last observation began less the clock margin, the
unfinished tasks of the last one by task_id `in` batches, and the counts that check it). Both
fetch and decode every page and stop there: what differs is what the service is asked.

At a budget of 10 requests a minute the time is the budget's wait for that many requests
(RequestBudget.seconds_for), computed, not waited for. At 1,000,000 tasks the requests are
computed from the plan (a page per 1,000 tasks listed, an `in` batch per 1,000 unfinished
ids, with the shares measured at 100,000) and the seconds scaled from 100,000.

    python benchmarks/incremental.py            # alone; bench.py prints it with the rest
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

DAY_SHARE = 0.02
BUDGET_PER_MINUTE = 10
PAGE_SIZE = 1000
API_KEY = "bench-key"


def _client(base_url: str):
    from mixpeek_tasks.api.transport import MixpeekClient

    return MixpeekClient(API_KEY, base_url, page_size=PAGE_SIZE)


def full_listing(base_url: str, concurrency: int) -> dict:
    """Probe, choose, page everything, count the service at the end."""
    from mixpeek_tasks.api.paging.choice import choose
    from mixpeek_tasks.api.paging.probe import probe
    from mixpeek_tasks.api.paging.runner import PagingRunner
    from mixpeek_tasks.snapshot.reconcile import CLOCK_MARGIN, count_service

    with _client(base_url) as client:
        started = time.perf_counter()
        runner = PagingRunner.of(client)
        report = probe(runner)
        strategy, _ = choose(runner, report, "auto", concurrency=concurrency)
        rows = sum(len(page.tasks) for page in runner.pages(strategy, concurrency=concurrency))
        count_service(client, datetime.now(timezone.utc) - CLOCK_MARGIN)
        return {"rows": rows, "requests": client.requests_sent,
                "seconds": time.perf_counter() - started, "strategy": strategy.name}


def incremental_listing(base_url: str, concurrency: int, since: str,
                        unfinished: list[str]) -> dict:
    """Probe and the plan's questions, the new and the unfinished tasks, and the counts the
    plan checks itself by (every task, the tasks created since)."""
    from mixpeek_tasks.api.paging.changes import created_since
    from mixpeek_tasks.api.paging.incremental import IncrementalPaging
    from mixpeek_tasks.api.paging.pages import PageRequest
    from mixpeek_tasks.api.paging.probe import (
        ProbeRequests,
        ask_created_at_filter,
        ask_task_id_in_filter,
        probe,
    )
    from mixpeek_tasks.api.paging.runner import PagingRunner

    with _client(base_url) as client:
        started = time.perf_counter()
        runner = PagingRunner.of(client)
        report = probe(runner)
        ask = ProbeRequests(runner, report)
        for question in (ask_created_at_filter, ask_task_id_in_filter):
            question(report, ask)
        if not report.holds("created_at_filter", "task_id_in_filter"):
            sys.exit(f"the probe does not vouch for the plan's filters: {report.reasons}")
        strategy = IncrementalPaging(since, unfinished)
        rows = sum(len(page.tasks) for page in runner.pages(strategy, concurrency=concurrency))
        runner.ask_together([
            PageRequest({}, 1, "total", {"include_total": "true"}),
            PageRequest(created_since(since), 1, "created since", {"include_total": "true"})])
        return {"rows": rows, "requests": client.requests_sent,
                "seconds": time.perf_counter() - started, **strategy.facts()}


def _child(*options: str) -> dict:
    output = subprocess.run([sys.executable, __file__, *options], check=True,
                            stdout=subprocess.PIPE, text=True).stdout
    return json.loads(output)


def measured_day(tasks: int, concurrency: int) -> dict:
    """The last observation's view of a generated account, a day's change, then the next
    observation listed in full and by the plan."""
    from mixpeek_emulator import running_emulator
    from mixpeek_tasks.api.paging.changes import FINISHED
    from mixpeek_tasks.api.vocabulary import api_timestamp
    from mixpeek_tasks.snapshot.reconcile import CLOCK_MARGIN

    with running_emulator(tasks, seed=1) as server, tempfile.TemporaryDirectory() as scratch:
        store = server.store
        with store.lock:
            began = datetime.now(timezone.utc)
            unfinished = [i for i, t in store.tasks.items() if t["status"] not in FINISHED]
            store.create(round(tasks * DAY_SHARE))
            store.finish(round(tasks * DAY_SHARE))
            now_listed = len(store.tasks)
        since = api_timestamp(began - CLOCK_MARGIN)
        ids_file = Path(scratch) / "unfinished.json"
        ids_file.write_text(json.dumps(unfinished))
        common = ["--base-url", server.base_url, "--concurrency", str(concurrency)]
        full = _child("full", *common)
        plan = _child("incremental", *common, "--since", since, "--unfinished", str(ids_file))
    if full["rows"] != now_listed:
        sys.exit(f"the full listing read {full['rows']:,} tasks of {now_listed:,}")
    if plan["rows"] != plan["new_listed"] + plan["unfinished_asked"]:
        sys.exit(f"the plan read {plan['rows']:,} tasks, not its new and unfinished ones")
    return {"tasks": tasks, "full": full, "incremental": plan,
            "unfinished_share": len(unfinished) / tasks}


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
                        help="(a child's role) one listing, printed as JSON")
    parser.add_argument("--base-url")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--since")
    parser.add_argument("--unfinished", type=Path)
    parser.add_argument("--tasks", type=int, default=100_000)
    args = parser.parse_args()
    if args.role == "full":
        print(json.dumps(full_listing(args.base_url, args.concurrency)))
    elif args.role == "incremental":
        print(json.dumps(incremental_listing(args.base_url, args.concurrency, args.since,
                                             json.loads(args.unfinished.read_text()))))
    else:
        print("\n".join(incremental_table(args.concurrency, args.tasks)))


if __name__ == "__main__":
    main()
