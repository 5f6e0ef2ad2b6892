"""A whole export against the emulator: completeness under churn, and atomic publication."""

from datetime import date

import httpx
import pyarrow.parquet as pq
import pytest

from pipelines.client import MixpeekClient, MixpeekRetriesExhausted, RetryPolicy
from pipelines.emulator import running_emulator
from pipelines.export import export_snapshot
from pipelines.throttle import RequestBudget
from pipelines.warehouse import Warehouse

EXPORT_DATE = date(2026, 11, 23)


@pytest.mark.slow
@pytest.mark.parametrize("concurrency", [1, 4])
def test_busy_account_is_exported_completely_exactly_once(tmp_path, concurrency):
    with running_emulator(tasks=25_000, seed=21, churn=7) as server:
        existing_before = set(server.store.tasks)
        with MixpeekClient("k", server.base_url) as client:
            result = export_snapshot(client, tmp_path / "parquet", EXPORT_DATE,
                                     concurrency=concurrency)
        existing_after = set(server.store.tasks)
    assert len(existing_after) > len(existing_before)  # tasks really appeared during the export

    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    warehouse.load_snapshot(EXPORT_DATE, result.tasks_path, result.quarantine_path)
    rows = warehouse.query("SELECT task_id, count(*) FROM tasks GROUP BY task_id").rows
    counts = dict(rows)
    assert existing_before <= counts.keys()
    assert set(counts.values()) == {1}
    assert counts.keys() <= existing_after
    assert result.rows == len(counts) and result.quarantined == 0
    # 25,000+ tasks cannot be reached with offset paging (offset <= 10,000); keyset needs none.
    assert result.rows > 10_000 + 1000


def test_a_failed_export_leaves_the_published_partition_untouched(tmp_path):
    with running_emulator(tasks=2500, seed=4) as server:
        with MixpeekClient("k", server.base_url, page_size=1000) as client:
            first = export_snapshot(client, tmp_path, EXPORT_DATE, concurrency=1)
        before = pq.read_table(first.tasks_path)

    calls = {"n": 0}

    def fails_after_one_page(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return httpx.Response(200, json={"results": [
                {"task_id": f"{i:04d}", "task_type": "thumbnail", "status": "FAILED"}
                for i in range(10)]})
        return httpx.Response(503)

    http = httpx.Client(transport=httpx.MockTransport(fails_after_one_page))
    budget = RequestBudget(sleep=lambda s: None)
    client = MixpeekClient("k", "https://api.test", page_size=10, http_client=http, budget=budget,
                           retry=RetryPolicy(max_attempts=2, min_delay=0, base_delay=0))
    with pytest.raises(MixpeekRetriesExhausted, match="page 2"):
        export_snapshot(client, tmp_path, EXPORT_DATE, concurrency=1)
    assert pq.read_table(first.tasks_path).equals(before)
    assert list((tmp_path / "_staging").iterdir()) == []


def test_rerunning_a_date_replaces_its_snapshot(tmp_path):
    with running_emulator(tasks=1200, seed=8, churn=20) as server:
        with MixpeekClient("k", server.base_url) as client:
            first = export_snapshot(client, tmp_path / "parquet", EXPORT_DATE, concurrency=2)
            second = export_snapshot(client, tmp_path / "parquet", EXPORT_DATE, concurrency=2)
    assert first.tasks_path == second.tasks_path
    assert pq.read_table(second.tasks_path).num_rows == second.rows > first.rows
    files = sorted(p.name for p in (tmp_path / "parquet" / "tasks").rglob("*.parquet"))
    assert files == ["data.parquet"]
