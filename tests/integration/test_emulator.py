"""The emulator must speak the real wire format: checked against the official SDK's models."""

import time

import httpx
import orjson
import pytest
from mixpeek.models.error_response import ErrorResponse
from mixpeek.models.list_tasks_request import ListTasksRequest
from mixpeek.models.list_tasks_response import ListTasksResponse
from mixpeek.models.task_response import TaskResponse

from mixpeek_emulator import ServerProfile, TaskStore, running_emulator
from mixpeek_emulator.query import sort_key


@pytest.fixture
def api(emulator):
    with httpx.Client(base_url=emulator.base_url, headers={"Authorization": "Bearer k"}) as http:
        def post(body=None, **params):
            return http.post("/v1/tasks/list", params=params, content=orjson.dumps(body or {}))
        yield post


def listed(response) -> ListTasksResponse:
    assert response.status_code == 200, response.text
    return ListTasksResponse.from_json(response.text)


def test_every_generated_task_validates_against_the_sdk_model(api, emulator):
    seen = 0
    for offset in range(0, len(emulator.store.tasks), 1000):
        seen += len(listed(api(limit=1000, offset=offset)).results)
    assert seen == len(emulator.store.tasks)


def test_documented_shapes_appear_in_the_generated_mix(emulator):
    tasks = list(emulator.store.tasks.values())
    batch = [t for t in tasks if t["task_type"] == "api_buckets_batches_process"
             and "batch_id" in t.get("additional_data", {})]
    assert batch and {"bucket_id", "namespace_id", "total_tiers", "collection_ids", "object_count",
                      "sample_object_ids"} <= set(batch[0]["additional_data"])
    assert any(t.get("additional_data", {}).get("from_mongodb") for t in tasks)
    assert any(t["status"] == "FAILED" and t["error"] == t["additional_data"]["error"]
               for t in tasks)
    assert any("duration_ms" in t.get("additional_data", {}) for t in tasks)
    assert {"COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED", "CANCELED", "SKIPPED"} <= {
        t["status"] for t in tasks}


def test_generation_is_seeded():
    first = TaskStore.generate(50, seed=3, now=TaskStore.generate(1, 0).now)
    again = TaskStore.generate(50, seed=3, now=first.now)
    assert first.tasks == again.tasks


def test_unknown_body_keys_are_refused_with_the_api_error_shape(api):
    response = api({"status": "FAILED", "page_token": "x"})
    assert response.status_code == 422
    error = ErrorResponse.from_json(response.text)
    assert error.error.type == "extra_forbidden" and "page_token" in error.error.message


@pytest.mark.parametrize("params", [{"limit": 1001}, {"limit": 0}, {"offset": 10001},
                                    {"offset": -1}])
def test_limit_and_offset_caps(api, params):
    response = api(**params)
    assert response.status_code == 422
    ErrorResponse.from_json(response.text)


def test_small_answers_on_a_kept_alive_connection_wait_for_no_delayed_ack(api):
    # With Nagle's algorithm the body, written after the headers, waited for the client's
    # delayed ACK: at least 40 ms on every answer after the first on a connection.
    seconds = []
    for _ in range(6):
        started = time.perf_counter()
        assert api({"sort": {"field": "task_id"}}, limit=1).status_code == 200
        seconds.append(time.perf_counter() - started)
    assert min(seconds[1:]) < 0.03, seconds


def test_missing_key_is_401(emulator):
    response = httpx.post(emulator.base_url + "/v1/tasks/list", json={})
    assert response.status_code == 401
    assert ErrorResponse.from_json(response.text).error.type == "unauthorized"


def test_include_total_and_next_cursor(api, emulator):
    counted = listed(api(limit=100, include_total="true")).pagination
    assert counted.total == len(emulator.store.tasks) and counted.total_pages == 30
    plain = listed(api(limit=100)).pagination
    assert plain.total is None and plain.total_pages is None
    ids = []
    cursor = None
    while True:
        page = listed(api(limit=500, **({"cursor": cursor} if cursor else {})))
        ids += [t.task_id for t in page.results]
        cursor = page.pagination.next_cursor
        if cursor is None:
            break
    assert sorted(ids) == sorted(emulator.store.tasks)


def test_default_sort_is_newest_first(api):
    created = [t["created_at"] for t in api(limit=50).json()["results"]]
    assert created == sorted(created, reverse=True)


FILTER_CASES = [
    ({"AND": [{"field": "status", "operator": "eq", "value": "FAILED"}]},
     lambda t: t["status"] == "FAILED"),
    ({"AND": [{"field": "status", "operator": "in", "value": ["FAILED", "CANCELED"]}],
      "NOT": [{"field": "task_type", "operator": "eq", "value": "thumbnail"}]},
     lambda t: t["status"] in ("FAILED", "CANCELED") and t["task_type"] != "thumbnail"),
    ({"OR": [{"field": "additional_data.total_tiers", "operator": "gte", "value": 3},
             {"field": "status", "operator": "eq", "value": "skipped"}]},
     lambda t: t.get("additional_data", {}).get("total_tiers", 0) >= 3 or t["status"] == "SKIPPED"),
    ({"AND": [{"field": "additional_data.object_count", "operator": "lt", "value": 2000},
              {"field": "status", "operator": "nin", "value": ["COMPLETED"]}]},
     lambda t: t.get("additional_data", {}).get("object_count", 10**9) < 2000
     and t["status"] != "COMPLETED"),
    ({"AND": [{"field": "task_id", "operator": "gt", "value": "c"},
              {"field": "task_id", "operator": "lte", "value": "d"}], "case_sensitive": True},
     lambda t: "c" < t["task_id"] <= "d"),
    ({"status": "CANCELED"}, lambda t: t["status"] == "CANCELED"),
]


@pytest.mark.parametrize("filters, expected", FILTER_CASES)
def test_filters_select_what_they_say(api, emulator, filters, expected):
    body = {"filters": filters, "sort": {"field": "task_id", "direction": "asc"}}
    ListTasksRequest.from_dict(body)
    got = [t.task_id for t in listed(api(body, limit=1000)).results]
    want = sorted(t["task_id"] for t in emulator.store.tasks.values() if expected(t))
    assert got == want and want


def test_status_task_type_sort_and_search(api, emulator):
    body = {"status": "FAILED", "task_type": "engine_cluster_build",
            "sort": {"field": "additional_data.job_id", "direction": "desc"}}
    got = listed(api(body, limit=1000)).results
    assert got and all(t.status.value == "FAILED" and t.task_type.value == "engine_cluster_build"
                       for t in got)
    jobs = [t.additional_data["job_id"] for t in got]
    assert jobs == sorted(jobs, reverse=True)
    some_id = next(iter(emulator.store.tasks))
    found = listed(api({"search": some_id[:13].upper()}, limit=1000)).results
    assert some_id in [t.task_id for t in found]


def test_churn_creates_tasks_and_moves_statuses_between_requests():
    with running_emulator(tasks=500, seed=5, churn=10) as server:
        before = {k: v["status"] for k, v in server.store.tasks.items()}
        httpx.post(server.base_url + "/v1/tasks/list", headers={"Authorization": "Bearer k"},
                   json={})
        after = server.store.tasks
    assert len(after) == len(before) + 10
    changed = [k for k in before if after[k]["status"] != before[k]]
    assert 0 < len(changed) <= 10
    assert all(before[k] in ("PENDING", "IN_PROGRESS", "PROCESSING") for k in changed)


@pytest.mark.parametrize("filters", [None, {"AND": [{"field": "task_id", "operator": "lt",
                                                      "value": "8"}], "case_sensitive": True}])
def test_a_descending_task_id_sort_lists_the_highest_ids_first(filters):
    store = TaskStore.generate(500, seed=2)
    body = {"sort": {"field": "task_id", "direction": "desc"},
            **({"filters": filters} if filters else {})}
    encoded, _, more = store.select(body, 20, 0)
    expected = sorted((i for i in store.tasks if filters is None or i < "8"), reverse=True)
    assert [orjson.loads(e)["task_id"] for e in encoded] == expected[:20] and more


def _count_bodies(store: TaskStore) -> list[dict]:
    """Count questions around the account's own creation times (equal to one, between two,
    past both ends), one-sided and windows, in both case modes, and some the index declines."""
    created = sorted(t["created_at"] for t in store.tasks.values()
                     if isinstance(t.get("created_at"), str))
    moments = [created[0], created[len(created) // 2], created[-1], created[-1][:-1] + "5Z",
               "1970-01-02T00:00:00.000Z", "9999-01-01T00:00:00.000Z", "2026-11-23T12:00:00Z",
               created[len(created) // 3].upper(), created[len(created) // 3].lower()]
    bodies: list[dict] = [{}, {"filters": {}}, {"filters": {"AND": []}},
                          {"task_type": "thumbnail"}]
    for case_sensitive in (None, True, False):
        mode = {} if case_sensitive is None else {"case_sensitive": case_sensitive}
        for moment in moments:
            for operator in ("lt", "lte", "gt", "gte"):
                bodies.append({"filters": {"AND": [
                    {"field": "created_at", "operator": operator, "value": moment}], **mode}})
        bodies.append({"filters": {"AND": [
            {"field": "created_at", "operator": "gte", "value": moments[0]},
            {"field": "created_at", "operator": "lt", "value": moments[1]}], **mode}})
        bodies.append({"filters": {"AND": [
            {"field": "created_at", "operator": "gt", "value": moments[1]},
            {"field": "created_at", "operator": "lte", "value": moments[0]}], **mode}})
    bodies.append({"filters": {"AND": [
        {"field": "created_at", "operator": "lt", "value": moments[1]},
        {"field": "status", "operator": "eq", "value": "FAILED"}]}})
    return bodies


def _odd_store(id_prefix: str | None) -> TaskStore:
    """A store with the records an index must treat as a scan does: no created_at, a number,
    a differently written time, ties, and records replaced by ones created at another moment."""
    store = TaskStore.generate(400, seed=4, id_prefix=id_prefix)
    some = sorted(store.tasks)
    store.add_record({"task_id": some[0] + "-none", "task_type": "thumbnail",
                      "status": "FAILED"})
    store.add_record({"task_id": some[1] + "-number", "status": "FAILED", "created_at": 17})
    store.add_record({"task_id": some[2] + "-odd", "status": "FAILED",
                      "created_at": "2026-11-23 10:00:00+00:00"})
    store.add_record({**store.tasks[some[3]], "created_at": "2020-01-01T00:00:00.000Z"})
    store.add_record({**store.tasks[some[4]], "created_at": None})
    for tie in range(3):
        store.add_record({**store.tasks[some[5]], "task_id": f"{some[5 + tie]}-tie"})
    return store


@pytest.mark.parametrize("profile", ["", "ignores_filters", "recent_window"])
@pytest.mark.parametrize("churn, deletes", [(0, 0), (25, 0), (0, 25), (25, 25)])
@pytest.mark.parametrize("id_prefix", [None, "task_"])
def test_indexed_counts_equal_a_full_scan_under_churn_and_deletions(profile, churn, deletes,
                                                                    id_prefix):
    store = _odd_store(id_prefix)
    quirks = ServerProfile.parse(profile)
    for _ in range(3):
        store.churn(churn, deletes)
        for body in _count_bodies(store):
            assert store.count(body, quirks) == len(store.scan(body, quirks)), body


@pytest.mark.parametrize("churn, deletes", [(0, 0), (25, 25)])
@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("id_prefix", [None, "task_"])
def test_pages_by_created_at_read_off_the_index_equal_a_sort_of_a_full_scan(churn, deletes,
                                                                            direction, id_prefix):
    store = _odd_store(id_prefix)
    for _ in range(3):
        store.churn(churn, deletes)
        for body in _count_bodies(store):
            body = {**body, "sort": {"field": "created_at", "direction": direction}}
            everything = sorted(store.scan(body), key=lambda t: sort_key(t.get("created_at")),
                                reverse=direction == "desc")
            for offset, limit in ((0, 1), (0, 1000), (3, 7), (len(everything) - 2, 5)):
                offset = max(offset, 0)
                encoded, total, more = store.select(body, limit, offset)
                assert [orjson.loads(e) for e in encoded] == everything[offset:offset + limit]
                assert more == (len(everything) > offset + limit)
                assert total in (None, len(everything))


def test_get_task_answers_the_listed_record_in_the_sdk_model_or_404(api, emulator):
    listed_task = api(limit=1).json()["results"][0]
    with httpx.Client(base_url=emulator.base_url, headers={"Authorization": "Bearer k"}) as http:
        found = http.get(f"/v1/tasks/{listed_task['task_id']}")
        missing = http.get("/v1/tasks/no-such-task")
        anonymous = httpx.get(f"{emulator.base_url}/v1/tasks/{listed_task['task_id']}")
    assert found.status_code == 200 and found.json() == listed_task
    assert TaskResponse.from_json(found.text).task_id == listed_task["task_id"]
    assert missing.status_code == 404
    assert ErrorResponse.from_json(missing.text).error.type == "not_found"
    assert anonymous.status_code == 401


def test_the_per_minute_rate_limit_answers_429_with_retry_after_and_then_admits_again():
    with running_emulator(tasks=20, seed=2, rate_limit=3, rate_window_seconds=1.0) as server:
        with httpx.Client(base_url=server.base_url, headers={"Authorization": "Bearer k"}) as http:
            started = time.monotonic()
            answers = [http.post("/v1/tasks/list", json={}) for _ in range(2)]
            answers += [http.get(f"/v1/tasks/{next(iter(server.store.tasks))}")]
            refused = [http.post("/v1/tasks/list", json={}) for _ in range(2)]
            within_window = time.monotonic() - started < 1.0
            time.sleep(1.05)
            again = http.post("/v1/tasks/list", json={})
    assert within_window
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [r.status_code for r in refused] == [429, 429]
    assert ErrorResponse.from_json(refused[0].text).error.type == "rate_limited"
    assert refused[0].headers["Retry-After"] == "1"
    assert again.status_code == 200 and server.rate_limit.refused == 2


@pytest.mark.parametrize("sort", [None, {"field": "task_id", "direction": "asc"},
                                  {"field": "created_at", "direction": "asc"}])
def test_a_task_id_in_listing_read_off_the_id_index_equals_a_scan(api, emulator, sort):
    every = sorted(emulator.store.tasks)
    asked = every[::7] + ["not-a-task"]
    conditions = [{"field": "task_id", "operator": "in", "value": asked},
                  {"field": "status", "operator": "eq", "value": "COMPLETED"}]
    body = {"filters": {"AND": conditions, "case_sensitive": True},
            **({"sort": sort} if sort else {})}
    order = sort or {"field": "created_at", "direction": "desc"}
    want = [t["task_id"] for t in sorted(
        (t for t in emulator.store.tasks.values()
         if t["task_id"] in asked and t["status"] == "COMPLETED"),
        key=lambda t: sort_key(t[order["field"]]), reverse=order["direction"] == "desc")]
    answer = api(body, limit=1000, include_total="true").json()
    assert [t["task_id"] for t in answer["results"]] == want and len(want) > 100
    assert answer["pagination"]["total"] == len(want)


def test_finish_and_create_make_a_day_of_change_and_touch_nothing_else():
    with running_emulator(tasks=2000, seed=6) as server:
        store = server.store
        before = {k: dict(v) for k, v in store.tasks.items()}
        in_flight = {k for k, v in before.items() if v["status"] in ("PENDING", "IN_PROGRESS",
                                                                      "PROCESSING")}
        store.finish(20)
        store.create(30)
    changed = {k for k in before if store.tasks[k] != before[k]}
    assert len(changed) == 20 and changed <= in_flight
    assert all(store.tasks[k]["status"] in ("COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED",
                                            "CANCELED", "SKIPPED", "INTERRUPTED")
               and "updated_at" in store.tasks[k] for k in changed)
    new = set(store.tasks) - set(before)
    assert len(new) == 30 and {store.tasks[k]["status"] for k in new} == {"PENDING"}
