"""A whole export against the emulator: completeness under churn, atomic publication, and
what a second run and a resumed one are (observations of their own moment)."""

import os
import time
from datetime import datetime, timezone

import httpx
import orjson
import pyarrow.parquet as pq
import pytest

from mixpeek_emulator import Faults, running_emulator
from mixpeek_tasks.api.budget import RequestBudget
from mixpeek_tasks.api.errors import MixpeekRetriesExhausted
from mixpeek_tasks.api.paging.runner import PagingRunner
from mixpeek_tasks.api.retries import RetryPolicy
from mixpeek_tasks.api.transport import MixpeekClient
from mixpeek_tasks.snapshot.export import export_snapshot
from mixpeek_tasks.snapshot.observation import id_time
from mixpeek_tasks.warehouse.database import Warehouse


@pytest.mark.slow
@pytest.mark.parametrize("concurrency", [1, 4])
def test_busy_account_is_exported_completely_exactly_once(tmp_path, concurrency):
    with running_emulator(tasks=25_000, seed=21, churn=7) as server:
        existing_before = set(server.store.tasks)
        with MixpeekClient("k", server.base_url) as client:
            result = export_snapshot(client, tmp_path / "parquet", concurrency=concurrency)
        existing_after = set(server.store.tasks)
    assert len(existing_after) > len(existing_before)  # tasks really appeared during the export

    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    warehouse.load()
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
            first = export_snapshot(client, tmp_path, concurrency=1)
        before = pq.read_table(first.tasks_path)

    pages = {"n": 0}

    def fails_after_one_page(request: httpx.Request) -> httpx.Response:
        if request.url.params["limit"] != "10":  # the probe's small requests: an empty account
            return httpx.Response(200, json={"results": []})
        pages["n"] += 1
        if pages["n"] == 1:
            return httpx.Response(200, json={"results": [
                {"task_id": f"{i:04d}", "task_type": "thumbnail", "status": "FAILED"}
                for i in range(10)]})
        return httpx.Response(503)

    http = httpx.Client(transport=httpx.MockTransport(fails_after_one_page))
    budget = RequestBudget(sleep=lambda s: None)
    client = MixpeekClient("k", "https://api.test", page_size=10, http_client=http, budget=budget,
                           retry=RetryPolicy(max_attempts=2, min_delay=0, base_delay=0))
    with pytest.raises(MixpeekRetriesExhausted, match="page 2"):
        export_snapshot(client, tmp_path, concurrency=1)
    assert pq.read_table(first.tasks_path).equals(before)
    published = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.parquet")
                       if "_staging" not in p.parts)
    folder = first.observation.folder
    assert published == [f"task_quarantine/{folder}/data.parquet", f"tasks/{folder}/data.parquet"]


def test_a_second_run_is_a_second_observation_and_the_first_stays(tmp_path):
    with running_emulator(tasks=1200, seed=8, churn=20) as server:
        with MixpeekClient("k", server.base_url) as client:
            first = export_snapshot(client, tmp_path / "parquet", concurrency=2)
            second = export_snapshot(client, tmp_path / "parquet", concurrency=2)
    assert first.observation.id < second.observation.id  # minted by each run, at its start
    assert first.observation.observed_on == datetime.now(timezone.utc).date()
    assert (first.observation.listing_finished_at <= second.observation.listing_started_at)
    assert pq.read_table(first.tasks_path).num_rows == first.rows
    assert pq.read_table(second.tasks_path).num_rows == second.rows > first.rows
    folders = sorted(p.parent.name for p in (tmp_path / "parquet" / "tasks").rglob("*.parquet"))
    assert folders == [first.observation.folder, second.observation.folder]


def test_an_interrupted_export_resumes_where_it_stopped(tmp_path, monkeypatch):
    with running_emulator(tasks=3000, seed=12, churn=2) as server:
        at_start = set(server.store.tasks)
        retry = RetryPolicy(max_attempts=2, min_delay=0.001, base_delay=0.001)
        with MixpeekClient("k", server.base_url, page_size=200, retry=retry) as client:
            pages = PagingRunner.pages

            def pages_then_outage(*args, **kwargs):
                for number, page in enumerate(pages(*args, **kwargs)):
                    if number == 9:
                        server.faults = Faults(rate=1.0, kinds=("503",))
                    yield page

            with monkeypatch.context() as patch:
                patch.setattr(PagingRunner, "pages", pages_then_outage)
                with pytest.raises(MixpeekRetriesExhausted):
                    export_snapshot(client, tmp_path, concurrency=2,
                                    part_rows=500)
        interrupted = orjson.loads((tmp_path / "_staging/listing/checkpoint.json").read_bytes())
        time.sleep(1.1)  # the second attempt starts in a later second than the first

        server.faults = Faults()
        second_attempt = datetime.now(timezone.utc)
        with MixpeekClient("k", server.base_url, page_size=200) as client:
            resumed = export_snapshot(client, tmp_path, concurrency=2,
                                      part_rows=500)
        at_end = set(server.store.tasks)
    assert 1000 <= resumed.resumed_rows < 3000
    # The second run did not start over: beyond its probe and its four reconciling counts,
    # it read fewer pages than the whole account.
    assert resumed.requests - resumed.coverage.probe["requests"] - 4 < 3000 / 200
    ids = pq.read_table(resumed.tasks_path).column("task_id").to_pylist()
    assert len(ids) == len(set(ids)) == resumed.rows
    assert at_start <= set(ids) <= at_end
    # One observation spanning both attempts: the first attempt's id and first page.
    observation = resumed.observation
    assert observation.id == interrupted["observation"]
    assert observation.listing_started_at == datetime.fromisoformat(interrupted["first_page_at"])
    assert id_time(observation.id) <= observation.listing_started_at < second_attempt
    assert observation.listing_finished_at > second_attempt
    assert not (tmp_path / "_staging" / "listing").exists()


def test_a_stale_checkpoint_is_not_resumed(tmp_path):
    with running_emulator(tasks=900, seed=13) as server:
        with MixpeekClient("k", server.base_url, page_size=100) as client:
            staging = tmp_path / "_staging" / "listing"
            staging.mkdir(parents=True)
            (staging / "checkpoint.json").write_text(
                '{"observation": "2020-01-01T000000Z", "first_page_at":'
                ' "2020-01-01T00:00:01+00:00", "ranges": [], "parts": 3,'
                ' "pages": 3, "rows": 3, "quarantined": 0}')
            result = export_snapshot(client, tmp_path, concurrency=1)
    assert result.resumed_rows == 0 and result.rows == 900
    assert result.observation.id != "2020-01-01T000000Z"


def test_staging_no_run_can_resume_is_swept_and_the_rest_kept(tmp_path):
    staging = tmp_path / "_staging"
    old_folder = staging / "export_date=2026-10-01"
    recent_folder = staging / "export_date=2026-11-22"
    old_file = staging / "tasks-2026-10-01-0123abcd.parquet"
    for folder in (old_folder, recent_folder):
        folder.mkdir(parents=True)
        (folder / "tasks-00000.parquet").write_bytes(b"part")
    old_file.write_bytes(b"half a merge")
    two_days_ago = time.time() - 2 * 86400
    for path in (old_folder, old_file):
        os.utime(path, (two_days_ago, two_days_ago))
    with running_emulator(tasks=50, seed=1) as server:
        with MixpeekClient("k", server.base_url) as client:
            export_snapshot(client, tmp_path, concurrency=1)
    assert not old_folder.exists() and not old_file.exists()
    assert (recent_folder / "tasks-00000.parquet").exists()
