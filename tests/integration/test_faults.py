"""Faults on the wire, injected by the emulator: every export either completes exactly or
fails clearly, naming the page, with nothing published."""

import time

import httpx
import pyarrow.parquet as pq
import pytest

from mixpeek_emulator import FAULT_KINDS, Faults, running_emulator
from mixpeek_tasks.api.errors import MixpeekRetriesExhausted
from mixpeek_tasks.api.paging.keyset import KeysetPaging
from mixpeek_tasks.api.paging.runner import PagingRunner
from mixpeek_tasks.api.retries import RetryPolicy
from mixpeek_tasks.api.transport import MixpeekClient
from mixpeek_tasks.snapshot.export import export_snapshot

FAST_RETRIES = RetryPolicy(max_attempts=12, base_delay=0.01, min_delay=0.001, max_delay=0.05)
DEADLINE = 1.0


def quick_client(server, **kwargs) -> MixpeekClient:
    options = {"page_size": 250, "retry": FAST_RETRIES,
               "timeout": httpx.Timeout(0.5, connect=0.5), "deadline": DEADLINE, **kwargs}
    return MixpeekClient("sk_test_faults", server.base_url, **options)


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_each_fault_is_retried_and_the_export_is_complete(tmp_path, kind):
    faults = Faults(rate=0.4, kinds=(kind,), seed=3, slow_seconds=1.0, drip_seconds=0.05)
    with running_emulator(tasks=1500, seed=9, faults=faults) as server:
        with quick_client(server) as client:
            result = export_snapshot(client, tmp_path, concurrency=2)
        expected = set(server.store.tasks)
    assert faults.injected and set(faults.injected) == {kind}
    ids = pq.read_table(result.tasks_path, columns=["task_id"]).column("task_id").to_pylist()
    assert len(ids) == len(set(ids)) and set(ids) == expected
    assert result.requests > result.pages


def test_a_retry_after_of_zero_or_in_the_past_still_waits_the_floor():
    faults = Faults(rate=1.0, kinds=("429_retry_after_0", "429_retry_after_past_date"), seed=1)
    waits = []
    with running_emulator(tasks=10, seed=1, faults=faults) as server:
        client = quick_client(server, retry=RetryPolicy(max_attempts=4, min_delay=0.05))
        client.budget.pause = waits.append
        with pytest.raises(MixpeekRetriesExhausted):
            list(PagingRunner.of(client).pages(KeysetPaging()))
    assert waits == [0.05, 0.05, 0.05]


def test_when_the_retry_budget_is_spent_the_export_fails_naming_the_page(tmp_path):
    with running_emulator(tasks=600, seed=2) as server:
        with quick_client(server) as client:
            first = export_snapshot(client, tmp_path, concurrency=1)
        before = pq.read_table(first.tasks_path)
        server.faults = Faults(rate=1.0, kinds=("503", "reset_mid_body"), seed=4)
        with quick_client(server, retry=RetryPolicy(max_attempts=3, min_delay=0.001)) as client:
            with pytest.raises(MixpeekRetriesExhausted) as raised:
                export_snapshot(client, tmp_path, concurrency=1)
    # Every request fails, so the first one, the probe's, names itself and the attempts.
    assert "probe: lowest task ids: gave up after 3 attempts" in str(raised.value)
    assert pq.read_table(first.tasks_path).equals(before)
    assert not list((tmp_path / "_staging").glob("*.parquet"))


def test_connection_refused_is_retried_then_reported(tmp_path):
    with running_emulator(tasks=1) as server:
        dead_url = server.base_url
    client = MixpeekClient("sk_test_faults", dead_url, retry=RetryPolicy(3, min_delay=0.001))
    with pytest.raises(MixpeekRetriesExhausted, match="ConnectError"):
        list(PagingRunner.of(client).pages(KeysetPaging()))


def test_a_dripping_answer_is_given_up_at_the_deadline_and_the_export_is_exact(tmp_path):
    # Each piece comes within the read timeout; the whole would take about a minute.
    faults = Faults(rate=0.3, kinds=("drip",), seed=5, drip_seconds=0.01)
    lines: list[str] = []
    with running_emulator(tasks=1500, seed=9, faults=faults) as server:
        expected = set(server.store.tasks)
        started = time.monotonic()
        with quick_client(server) as client, client.reporting_slow_requests(lines.append,
                                                                            every=0.2):
            result = export_snapshot(client, tmp_path, concurrency=2)
        spent = time.monotonic() - started
    ids = pq.read_table(result.tasks_path, columns=["task_id"]).column("task_id").to_pylist()
    assert len(ids) == len(set(ids)) and set(ids) == expected
    drips = len(faults.injected)
    assert drips >= 3
    # Every dripping answer was dropped at the deadline (give or take a piece), not waited out.
    assert spent < drips * (DEADLINE + 0.5) + 10
    waits = [line for line in lines if line.startswith("still waiting for ")]
    assert waits and all(f"(deadline {DEADLINE:g}s)" in line for line in waits)


def test_an_answer_that_always_drips_fails_naming_the_request_and_the_deadline():
    faults = Faults(rate=1.0, kinds=("drip",), seed=1, drip_seconds=0.01)
    with running_emulator(tasks=300, seed=1, faults=faults) as server:
        client = quick_client(server, deadline=0.3, retry=RetryPolicy(3, min_delay=0.001))
        with pytest.raises(MixpeekRetriesExhausted) as raised:
            list(PagingRunner.of(client).pages(KeysetPaging()))
    assert str(raised.value).startswith("page 1 of task ids [, )")
    assert ("gave up after 3 attempts; last error: no whole answer within the 0.3s deadline"
            in str(raised.value))
