"""Incremental observations against the emulator: after a full listing, the next lists only the
new and unfinished tasks, and the history it leaves equals a full listing's; where the probe
cannot vouch for the plan, or its counts do not add up, the run lists every task and says why."""

import random

import httpx
import pyarrow.parquet as pq
import pytest

from mixpeek_emulator import FAULT_KINDS, Faults, running_emulator
from mixpeek_tasks.api.budget import RequestBudget
from mixpeek_tasks.api.errors import MixpeekProtocolError
from mixpeek_tasks.api.paging.changes import FINISHED
from mixpeek_tasks.api.retries import RetryPolicy
from mixpeek_tasks.api.transport import MixpeekClient
from mixpeek_tasks.snapshot.export import export_snapshot
from mixpeek_tasks.snapshot.increment import known_state
from mixpeek_tasks.snapshot.reconcile import SnapshotIncomplete
from mixpeek_tasks.snapshot.tree import SnapshotTree
from mixpeek_tasks.warehouse.database import Warehouse

RETRIES = RetryPolicy(max_attempts=12, base_delay=0.01, min_delay=0.001, max_delay=0.05)


def observe(server, root, page_size=200, **options):
    with MixpeekClient("k", server.base_url, page_size=page_size, retry=RETRIES) as client:
        return export_snapshot(client, root, progress=lambda _: None, concurrency=3,
                               **{"full_every": 7, **options})


def a_day(store, *, new=60, finishing=40, delete_unfinished=1, delete_finished=0):
    """A day of the account: tasks created, finishing, and some deleted; returns those gone."""
    with store.lock:
        store.create(new)
        store.finish(finishing)
        unfinished = sorted(i for i, t in store.tasks.items() if t["status"] not in FINISHED)
        finished = sorted(i for i, t in store.tasks.items() if t["status"] in FINISHED)
        gone = unfinished[:delete_unfinished] + finished[:delete_finished]
        for task_id in gone:
            store.delete(task_id)
    return gone


def statuses(table) -> dict[str, str]:
    return dict(zip(table["task_id"].to_pylist(), table["status"].to_pylist()))


def listed(result) -> list[str]:
    return pq.read_table(result.tasks_path, columns=["task_id"])["task_id"].to_pylist()


def test_an_incremental_observation_lists_what_changed_and_leaves_the_history_a_full_one_would(
        tmp_path):
    with running_emulator(tasks=3000, seed=31) as server:
        first = observe(server, tmp_path / "tree")
        assert first.coverage.increment is None
        assert "no complete observation before this one" in first.coverage.reason
        before = set(server.store.tasks)
        gone = a_day(server.store)
        second = observe(server, tmp_path / "tree")
        truth = {i: t["status"] for i, t in server.store.tasks.items()}
        full = observe(server, tmp_path / "full", full=True)

    record = second.coverage.increment
    assert second.coverage.strategy == "incremental", second.coverage.reason
    assert record["base_observation"] == first.observation.id and record["gone"] == gone
    assert second.coverage.verdict.startswith("exact: ")
    new = set(truth) - before
    ids = listed(second)
    assert len(ids) == len(set(ids)) and new <= set(ids) and len(ids) < len(truth) / 5
    assert record["carried"] == len(truth) - len(ids)
    # Fewer requests than listing everything, which the full listing beside it did.
    assert second.requests < full.requests
    # The history it leaves: every task once, with its current status, as the full listing's.
    state = known_state(SnapshotTree(tmp_path / "tree"))
    assert statuses(state.tasks) == truth == statuses(pq.read_table(full.tasks_path))
    assert state.since_full == 1 and state.observation_id == second.observation.id
    incremental = Warehouse(tmp_path / "incremental.duckdb", SnapshotTree(tmp_path / "tree"))
    incremental.load()
    alive = incremental.query(
        "SELECT task_id, status FROM tasks WHERE task_id NOT IN (SELECT unnest($gone))",
        {"gone": gone}).rows
    assert dict(alive) == truth


def test_a_deleted_finished_task_makes_the_counts_disagree_and_the_run_list_everything(tmp_path):
    with running_emulator(tasks=2000, seed=32) as server:
        observe(server, tmp_path)
        a_day(server.store, delete_finished=2)
        result = observe(server, tmp_path)
        truth = set(server.store.tasks)
    assert result.coverage.increment is None and set(listed(result)) == truth
    assert "the incremental listing could not be shown exact" in result.coverage.reason
    assert "finished tasks were deleted" in result.coverage.reason


def test_every_nth_observation_and_one_asked_for_list_every_task(tmp_path):
    with running_emulator(tasks=1500, seed=33) as server:
        kinds = []
        for options in ({}, {}, {}, {}, {"full": True}, {}):
            a_day(server.store, new=10, finishing=5, delete_unfinished=0)
            result = observe(server, tmp_path, full_every=3, **options)
            kinds.append((result.coverage.strategy == "incremental", result.coverage.reason))
    assert [incremental for incremental, _ in kinds] == [False, True, True, False, False, True]
    assert "every 3th observation lists every task" in kinds[3][1]
    assert "asked for (--full)" in kinds[4][1]


# case -> (profile, page size, whether the next observation is incremental, words of its
# reason). One by one costs a request per unfinished task: worth it only where listing
# everything costs more (small pages); with big pages the run lists everything instead.
PROFILES = {
    "no_timestamps": ("no_timestamps", 200, False, "the history holds tasks without created_at"),
    "ignores_created_at_filter": ("ignores_created_at_filter", 200, False,
                                  "a created_at filter lists the tasks created since"),
    "ignores_in_filter": ("ignores_in_filter", 10, True, "read again one by one"),
    "ignores_in_filter, big pages": ("ignores_in_filter", 200, False, "reading the "),
    "no_total": ("no_total", 200, False, "the service counts what it lists"),
    "ignores_status_filter": ("ignores_status_filter", 200, True, "in task_id `in` batches"),
}


@pytest.mark.parametrize("case", PROFILES)
def test_each_profile_gets_the_plan_the_probe_vouches_for_or_a_full_listing_and_why(
        tmp_path, case):
    profile, page_size, incremental, words = PROFILES[case]
    with running_emulator(tasks=1500, seed=34, profile=profile) as server:
        observe(server, tmp_path, page_size=page_size)
        gone = a_day(server.store, new=20, finishing=15)
        result = observe(server, tmp_path, page_size=page_size)
        truth = {i: t["status"] for i, t in server.store.tasks.items()}
    assert (result.coverage.strategy == "incremental") is incremental, result.coverage.reason
    assert words in result.coverage.reason
    if incremental:
        assert result.coverage.increment["gone"] == gone
        assert statuses(known_state(SnapshotTree(tmp_path)).tasks) == truth


def test_tasks_the_service_forgets_stay_in_the_history_with_when_they_were_last_listed_and_gone(
        tmp_path):
    tree = SnapshotTree(tmp_path / "tree")
    with running_emulator(tasks=1500, seed=35) as server:
        first = observe(server, tree)
        unfinished_gone = a_day(server.store, new=10, finishing=5)  # found gone by id
        second = observe(server, tree)
        finished_gone = a_day(server.store, new=10, finishing=5, delete_unfinished=0,
                              delete_finished=1)  # only a full listing sees it
        third = observe(server, tree)
        fourth = observe(server, tree)
    assert second.coverage.strategy == "incremental"
    assert third.coverage.strategy != "incremental"  # the counts sent it to a full listing
    assert fourth.coverage.strategy == "incremental"
    warehouse = Warehouse(tmp_path / "warehouse.duckdb", tree)
    warehouse.load()
    warehouse.build_views()
    gone = {row[0]: row[1:] for row in warehouse.query(
        "SELECT task_id, last_listed_in, gone_since FROM tasks_gone").rows}
    assert gone == {unfinished_gone[0]: (first.observation.id, second.observation.id),
                    finished_gone[0]: (first.observation.id, third.observation.id)}
    carried = warehouse.query(
        "SELECT observation_id, incremental_from, carried, gone_task_ids FROM export_coverage"
        " ORDER BY observation_id").rows
    assert [row[1] for row in carried] == [None, first.observation.id, None,
                                            third.observation.id]
    assert carried[1][3] == unfinished_gone and carried[1][2] == second.coverage.increment[
        "carried"] > 1000


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(8))
def test_no_profile_fault_or_churn_mix_leaves_a_task_missing_from_an_incremental_history(
        tmp_path, seed):
    """A full observation, a day, then the next (incremental where the probe vouches for it):
    every task that existed throughout the second is in the history it leaves, or nothing is
    published."""
    rng = random.Random(seed)
    quirks = ["ignores_sort", "sorts_page_only", "no_total", "no_timestamps",
              "ignores_status_filter", "ignores_in_filter", "ignores_created_at_filter"]
    profile = ",".join(rng.sample(quirks, rng.randint(0, 2)))
    faults = Faults(rate=rng.uniform(0, 0.1), kinds=tuple(rng.sample(FAULT_KINDS, 4)),
                    seed=seed, slow_seconds=0.3)
    tree = SnapshotTree(tmp_path)
    with running_emulator(tasks=rng.randint(1500, 6000), seed=seed, churn=rng.randint(0, 3),
                          churn_deletes=rng.choice([0, 0, 0, 1]), profile=profile,
                          faults=faults) as server:
        try:
            with MixpeekClient("k", server.base_url, page_size=rng.choice([100, 500]),
                               retry=RETRIES, timeout=httpx.Timeout(0.5)) as client:
                export_snapshot(client, tree, progress=lambda _: None, full_every=7)
                a_day(server.store, new=rng.randint(0, 80), finishing=rng.randint(0, 60),
                      delete_unfinished=rng.randint(0, 2), delete_finished=rng.choice([0, 0, 0, 1]))
                at_start = set(server.store.tasks)
                result = export_snapshot(client, tree, progress=lambda _: None, full_every=7,
                                         concurrency=rng.randint(1, 4))
        except (MixpeekProtocolError, SnapshotIncomplete) as refused:
            print(f"seed={seed} profile={profile or 'documented'}: refused: {refused}")
            return
        at_end = set(server.store.tasks)
    state = known_state(tree)
    missing = (at_start & at_end) - set(state.tasks["task_id"].to_pylist())
    print(f"seed={seed} profile={profile or 'documented'}: {result.coverage.strategy}, "
          f"{result.requests} requests, missing={len(missing)} ({result.coverage.reason})")
    assert not missing


def test_on_a_live_account_an_incremental_observation_still_misses_no_task(tmp_path):
    # Tasks created and finishing before every request, as on a busy account.
    with running_emulator(tasks=3000, seed=36, churn=3) as server:
        observe(server, tmp_path)
        a_day(server.store, delete_unfinished=0)
        at_start = set(server.store.tasks)
        result = observe(server, tmp_path)
        at_end = set(server.store.tasks)
    assert result.coverage.strategy == "incremental", result.coverage.reason
    known = set(known_state(SnapshotTree(tmp_path)).tasks["task_id"].to_pylist())
    assert at_start <= known <= at_end


def test_with_a_budget_an_incremental_observation_says_its_requests_before_it_starts(tmp_path):
    said: list[str] = []
    with running_emulator(tasks=1500, seed=37) as server:
        observe(server, tmp_path)
        a_day(server.store, new=10, finishing=5, delete_unfinished=0)
        with MixpeekClient("k", server.base_url, page_size=200,
                           budget=RequestBudget(1000, window_seconds=1.0)) as client:
            result = export_snapshot(client, tmp_path, progress=said.append, full_every=7)
    (plan,) = [line for line in said if "plans" in line]
    assert plan.startswith("the incremental listing plans, and a page per 200 new tasks: about ")
    planned = int(plan.split("about ")[1].split(" requests")[0].replace(",", ""))
    # A page of new tasks (and the empty one that ends them) are not in the plan.
    assert result.coverage.strategy == "incremental" and planned <= result.requests <= planned + 2
