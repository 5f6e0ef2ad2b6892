"""Twenty seeded exports under random faults, churn, deletions and bad records: nothing lost,
nothing duplicated, every bad record quarantined. Run with -s to see one line per export."""

import random

import httpx
import pyarrow.parquet as pq
import pytest

from mixpeek_emulator import FAULT_KINDS, Faults, running_emulator
from mixpeek_tasks.api.retries import RetryPolicy
from mixpeek_tasks.api.transport import MixpeekClient
from mixpeek_tasks.snapshot.export import export_snapshot

RETRIES = RetryPolicy(max_attempts=25, base_delay=0.01, min_delay=0.001, max_delay=0.05)


def bad_records(rng: random.Random, count: int) -> dict[str, dict]:
    """Records a live API should never send, each bound for the quarantine."""
    shapes = [
        lambda i: {"task_id": i, "task_type": "thumbnail"},
        lambda i: {"task_id": i, "task_type": None, "status": "FAILED"},
        lambda i: {"task_id": i, "task_type": ["engine_cluster_build"], "status": "COMPLETED"},
        lambda i: {"task_id": i, "task_type": "thumbnail", "status": {"code": 3}},
    ]
    return {task_id: rng.choice(shapes)(task_id) for task_id in (
        f"{rng.randrange(16):x}{rng.getrandbits(64):016x}-bad" for _ in range(count))}


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(20))
def test_chaos_export_loses_nothing_and_duplicates_nothing(tmp_path, seed):
    rng = random.Random(seed)
    faults = Faults(rate=rng.uniform(0.1, 0.3), kinds=tuple(rng.sample(FAULT_KINDS, 5)),
                    seed=seed, slow_seconds=0.6)
    with running_emulator(tasks=rng.randint(1500, 3000), seed=seed, churn=rng.randint(0, 5),
                          churn_deletes=rng.randint(0, 2), faults=faults) as server:
        bad = bad_records(rng, rng.randint(1, 6))
        for record in bad.values():
            server.store.add_record(record)
        at_start = set(server.store.tasks)
        with MixpeekClient("sk_test_chaos", server.base_url, page_size=100, retry=RETRIES,
                           timeout=httpx.Timeout(0.3)) as client:
            result = export_snapshot(client, tmp_path,
                                     concurrency=rng.randint(1, 4), part_rows=700)
        at_end = set(server.store.tasks)
    typed = pq.read_table(result.tasks_path, columns=["task_id"]).column("task_id").to_pylist()
    quarantined = pq.read_table(result.quarantine_path).column("task_id").to_pylist()
    lost = (at_start & at_end) - set(typed) - set(quarantined)
    duplicated = len(typed) + len(quarantined) - len(set(typed) | set(quarantined))
    print(f"seed={seed:2d} faults={len(faults.injected):3d} lost={len(lost)} "
          f"duplicated={duplicated} quarantined={len(quarantined)}")
    assert lost == set() and duplicated == 0
    assert set(bad) & at_end <= set(quarantined) <= set(bad)
