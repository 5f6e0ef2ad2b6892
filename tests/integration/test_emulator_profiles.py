"""Server profiles: each quirk the live service may have happens when it is switched on, and the
documented default never shows it. Also: custom task ids, and a cursor deeper than the offset
cap."""

import contextlib
import re
import uuid
from datetime import datetime, timedelta

import httpx
import pytest
from mixpeek.models.list_tasks_response import ListTasksResponse

from mixpeek_emulator import QUIRKS, ServerProfile, TaskStore, running_emulator
from mixpeek_emulator.cli import main

TASKS = 1000
SEED = 21
TASK_ID_ASC = {"field": "task_id", "direction": "asc"}
FAILED_FILTER = {"filters": {"AND": [{"field": "status", "operator": "eq", "value": "FAILED"}]}}


@contextlib.contextmanager
def documented_and(quirk: str):
    """The same seeded account served twice: as documented, and with `quirk`."""
    with running_emulator(TASKS, SEED) as documented, \
            running_emulator(TASKS, SEED, profile=quirk) as quirky:
        yield documented, quirky


def post(server, body=None, **params) -> httpx.Response:
    return httpx.post(server.base_url + "/v1/tasks/list", json=body or {}, params=params,
                      headers={"Authorization": "Bearer k"})


def get(server, task_id: str) -> httpx.Response:
    return httpx.get(f"{server.base_url}/v1/tasks/{task_id}", headers={"Authorization": "Bearer k"})


def listed(server, body=None, **params) -> dict:
    response = post(server, body, **params)
    assert response.status_code == 200, response.text
    return response.json()


def task_ids(server, body=None, limit=100, **params) -> list[str]:
    return [t["task_id"] for t in listed(server, body, limit=limit, **params)["results"]]


def statuses(server, body) -> set[str]:
    return {t["status"] for t in listed(server, body, limit=1000)["results"]}


def total(server, body=None) -> int | None:
    return listed(server, body, include_total="true")["pagination"]["total"]


def by_task_id(server) -> list[str]:
    return sorted(server.store.tasks)


def newest_first(server) -> list[str]:
    tasks = sorted(server.store.tasks.values(), key=lambda t: t["created_at"], reverse=True)
    return [t["task_id"] for t in tasks]


def keyset_walk(server, limit=100) -> list[str]:
    """Page by task_id the way a keyset reader does: each page starts after the last id seen."""
    ids: list[str] = []
    while True:
        body: dict = {"sort": TASK_ID_ASC}
        if ids:
            body["filters"] = {"AND": [{"field": "task_id", "operator": "gt", "value": ids[-1]}],
                               "case_sensitive": True}
        page = task_ids(server, body, limit=limit)
        ids += page
        if len(page) < limit:
            return ids


def follow_cursor(server, limit) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        page = listed(server, limit=limit, **({"cursor": cursor} if cursor else {}))
        ids += [t["task_id"] for t in page["results"]]
        cursor = page["pagination"]["next_cursor"]
        if cursor is None:
            return ids


def test_ignores_sort_answers_newest_first_whatever_was_asked():
    with documented_and("ignores_sort") as (documented, quirky):
        assert task_ids(documented, {"sort": TASK_ID_ASC}) == by_task_id(documented)[:100]
        assert task_ids(quirky, {"sort": TASK_ID_ASC}) == newest_first(quirky)[:100]


def test_ignores_filters_lists_everything_while_the_status_key_still_filters():
    with documented_and("ignores_filters") as (documented, quirky):
        failed = [t for t in documented.store.tasks.values() if t["status"] == "FAILED"]
        assert statuses(documented, FAILED_FILTER) == {"FAILED"}
        assert total(documented, FAILED_FILTER) == len(failed)

        assert statuses(quirky, FAILED_FILTER) > {"FAILED"}
        assert total(quirky, FAILED_FILTER) == TASKS
        sorted_by_id = {**FAILED_FILTER, "sort": TASK_ID_ASC}
        assert task_ids(quirky, sorted_by_id) == by_task_id(quirky)[:100]
        assert statuses(quirky, {"status": "FAILED"}) == {"FAILED"}


def test_sorts_page_only_sorts_the_newest_page_so_a_keyset_walk_misses_tasks():
    with documented_and("sorts_page_only") as (documented, quirky):
        assert task_ids(documented, {"sort": TASK_ID_ASC}) == by_task_id(documented)[:100]
        assert keyset_walk(documented) == by_task_id(documented)

        newest = newest_first(quirky)
        assert task_ids(quirky, {"sort": TASK_ID_ASC}) == sorted(newest[:100])
        assert task_ids(quirky, {"sort": TASK_ID_ASC}, offset=100) == sorted(newest[100:200])
        walked = keyset_walk(quirky)
        assert walked == sorted(walked) and len(walked) < TASKS


def test_timestamp_sort_only_refuses_a_sort_on_any_other_field():
    with documented_and("timestamp_sort_only") as (documented, quirky):
        for field in ("task_id", "status", "additional_data.job_id"):
            body = {"sort": {"field": field, "direction": "asc"}}
            assert post(documented, body).status_code == 200
            refused = post(quirky, body)
            assert refused.status_code == 422
            assert refused.json()["success"] is False
            assert refused.json()["error"]["type"] == "validation_error"
        for field in ("created_at", "updated_at"):
            assert post(quirky, {"sort": {"field": field, "direction": "asc"}}).status_code == 200


def test_recent_window_lists_and_counts_only_the_last_day():
    with documented_and("recent_window") as (documented, quirky):
        assert total(documented) == TASKS

        since = quirky.store.now - timedelta(hours=24)
        recent = sorted(i for i, t in quirky.store.tasks.items()
                        if datetime.fromisoformat(t["created_at"]) >= since)
        assert 0 < len(recent) < TASKS / 10
        assert sorted(task_ids(quirky, limit=1000)) == recent
        assert task_ids(quirky, {"sort": TASK_ID_ASC}, limit=1000) == recent
        assert total(quirky) == len(recent)
        old = next(i for i in quirky.store.tasks if i not in recent)
        assert get(documented, old).status_code == 200 and get(quirky, old).status_code == 404
        assert get(quirky, recent[0]).status_code == 200
        with quirky.store.lock:
            quirky.store.churn(5)
        assert total(quirky) == len(recent) + 5


def test_no_total_answers_null_totals_but_still_pages():
    with documented_and("no_total") as (documented, quirky):
        counted = listed(documented, limit=100, include_total="true")["pagination"]
        assert (counted["total"], counted["total_pages"]) == (TASKS, 10)

        uncounted = listed(quirky, limit=100, include_total="true")["pagination"]
        assert uncounted["total"] is None and uncounted["total_pages"] is None
        assert uncounted["next_cursor"]


def test_no_timestamps_serves_records_as_the_sdk_declares_them_and_still_sorts_by_its_own():
    with documented_and("no_timestamps") as (documented, quirky):
        newest = listed(documented, limit=200)["results"]
        bare = listed(quirky, limit=200)["results"]
        assert all("created_at" in t for t in newest) and any("updated_at" in t for t in newest)
        assert not any("created_at" in t or "updated_at" in t for t in bare)
        ListTasksResponse.from_dict(listed(quirky, limit=200))
        assert [t["task_id"] for t in bare] == [t["task_id"] for t in newest]
        assert bare == [{k: v for k, v in t.items() if k not in ("created_at", "updated_at")}
                        for t in newest]
        since = {"filters": {"AND": [
            {"field": "created_at", "operator": "gte", "value": newest[99]["created_at"]}]}}
        assert total(quirky, since) == total(documented, since) == 100
        a_task = newest[0]["task_id"]
        assert get(quirky, a_task).json() == bare[0]


FAILED_EQ = {"field": "status", "operator": "eq", "value": "FAILED"}
THUMBNAIL_EQ = {"field": "task_type", "operator": "eq", "value": "thumbnail"}
# quirk -> (bodies it ignores, each selecting fewer than every task when honoured; a condition
# it still honours)
IGNORED = {
    "ignores_status_filter": ([
        {"status": "FAILED"},
        {"filters": {"AND": [{"field": "status", "operator": "in", "value": ["FAILED"]}]}},
        {"filters": {"status": "FAILED"}},
    ], THUMBNAIL_EQ),
    "ignores_in_filter": ([
        {"filters": {"AND": [{"field": "task_type", "operator": "in", "value": ["thumbnail"]}]}},
        {"filters": {"OR": [{"field": "status", "operator": "in", "value": ["FAILED"]}]}},
    ], FAILED_EQ),
    "ignores_created_at_filter": ([
        {"filters": {"AND": [{"field": "created_at", "operator": "gte", "value": "9"}]}},
        {"filters": {"AND": [{"field": "created_at", "operator": "lt", "value": "1"}],
                     "case_sensitive": True}},
    ], FAILED_EQ),
}


@pytest.mark.parametrize("quirk", IGNORED)
def test_a_filter_the_service_does_not_support_is_ignored_silently(quirk):
    ignored, honoured = IGNORED[quirk]
    with documented_and(quirk) as (documented, quirky):
        for body in ignored:
            assert total(documented, body) < TASKS, body
            assert total(quirky, body) == TASKS, body
            assert len(task_ids(quirky, body, limit=1000)) == TASKS
        # Beside an ignored condition, the others still narrow.
        alone = {"filters": {"AND": [honoured]}}
        condition = next(b["filters"]["AND"][0] for b in ignored if "AND" in b.get("filters", {}))
        both = {"filters": {"AND": [condition, honoured]}}
        assert total(quirky, both) == total(quirky, alone) == total(documented, alone) < TASKS
        assert total(documented, both) < total(documented, alone)


@pytest.mark.parametrize("profile, reached", [("", 10_500), ("cursor_capped", 10_000)])
def test_next_cursor_past_the_offset_cap(profile, reached):
    with running_emulator(tasks=10_500, seed=SEED, profile=profile) as server:
        ids = follow_cursor(server, limit=1000)
        assert len(ids) == len(set(ids)) == reached
        assert ids == newest_first(server)[:reached]
        assert post(server, limit=1000, offset=10_001).status_code == 422


def test_a_cursor_with_a_negative_offset_is_invalid():
    with running_emulator(tasks=10, seed=SEED) as server:
        response = post(server, cursor="eyJvZmZzZXQiOi0xfQ==")  # {"offset":-1}
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_cursor"


def test_profiles_parse_from_names_and_refuse_unknown_ones():
    assert list(QUIRKS) == ["ignores_sort", "ignores_filters", "sorts_page_only",
                            "timestamp_sort_only", "cursor_capped", "recent_window", "no_total",
                            "no_timestamps", "ignores_status_filter", "ignores_in_filter",
                            "ignores_created_at_filter"]
    both = ServerProfile(ignores_sort=True, no_total=True)
    assert ServerProfile.parse("ignores_sort, no_total") == both
    assert ServerProfile.parse(["no_total", "ignores_sort"]) == both
    assert ServerProfile.parse("") == ServerProfile() and not ServerProfile().names

    with pytest.raises(ValueError) as refused:
        with running_emulator(tasks=1, profile="ignores_sort,bogus"):
            pass
    assert "bogus" in str(refused.value)
    assert all(name in str(refused.value) for name in QUIRKS)
    with pytest.raises(SystemExit) as exited:
        main(["--port", "0", "--tasks", "1", "--server-profile", "bogus"])
    assert exited.value.code == 2


def test_task_ids_with_a_prefix_are_custom_and_unique_and_page_by_keyset():
    with running_emulator(tasks=500, seed=SEED, id_prefix="task_") as server:
        ids = list(server.store.tasks)
        assert len(set(ids)) == 500
        assert all(re.fullmatch(r"task_[0-9a-f]{24}", i) for i in ids)
        assert keyset_walk(server) == sorted(ids)
        with server.store.lock:
            server.store.churn(5)
        assert len(server.store.tasks) == 505
        assert all(i.startswith("task_") for i in server.store.tasks)

    assert all(uuid.UUID(i).version == 4 for i in TaskStore.generate(50, seed=SEED).tasks)
