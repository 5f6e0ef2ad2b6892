"""When an observation may be incremental, and the counts that show one exact or send the run
to a full listing, with the reason."""

from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pytest

from mixpeek_tasks.api.paging.incremental import IncrementalPaging
from mixpeek_tasks.api.paging.probe import ProbeReport
from mixpeek_tasks.snapshot.increment import (
    RELIED_ON,
    IncrementDoubt,
    KnownState,
    increment_of,
    plan_increment,
    why_full,
)

BEGAN = datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc)
UTC = pa.timestamp("us", tz="UTC")


def known_state(rows, since_full=0):
    table = pa.table({"task_id": [r[0] for r in rows], "status": [r[1] for r in rows],
                      "created_at": pa.array([r[2] for r in rows], UTC)})
    return KnownState("2026-12-01T030000Z", BEGAN, table, since_full)


OLD = BEGAN - timedelta(days=2)
IN_MARGIN = BEGAN - timedelta(minutes=3)  # after `since`: the plan lists it again as new
KNOWN = known_state([("a", "COMPLETED", OLD), ("b", "PROCESSING", OLD), ("c", "FAILED", OLD),
                     ("d", "SKIPPED", OLD), ("e", "PENDING", IN_MARGIN)])


def vouching(**reads) -> ProbeReport:
    return ProbeReport(**dict.fromkeys(RELIED_ON, True), **reads)


def test_the_known_state_names_the_unfinished_tasks_and_counts_those_before_the_margin():
    assert KNOWN.unfinished() == ["b", "d", "e"]  # SKIPPED is not terminal in the docs
    assert KNOWN.since == BEGAN - timedelta(minutes=10)
    assert KNOWN.since_text == "2026-12-01T02:50:00.000Z"
    assert KNOWN.created_before_since() == 4
    assert KNOWN.known(["b", "zz", "e"]) == [True, False, True]
    assert KNOWN.counted_before_since(["b", "zz", "e", "a"]) == 2
    assert known_state([("a", "COMPLETED", None)]).created_before_since() is None


@pytest.mark.parametrize(("known", "options", "reason"), [
    (KNOWN, {"on_demand": True}, "asked for (--full)"),
    (None, {}, "no complete observation before"),
    (known_state([("a", "COMPLETED", OLD)], since_full=6), {},
     "every 7th observation lists every task"),
    (known_state([("a", "COMPLETED", None)]), {}, "tasks without created_at"),
])
def test_why_an_observation_lists_every_task(known, options, reason):
    said = why_full(known, full_every=7, **{"on_demand": False, **options})
    assert said is not None and reason in said


def test_an_observation_may_be_incremental_until_the_nth():
    assert why_full(known_state([("a", "COMPLETED", OLD)], since_full=5), full_every=7,
                    on_demand=False) is None


@pytest.mark.parametrize(("report", "reason"), [
    (ProbeReport(**{**dict.fromkeys(RELIED_ON, True), "created_at_filter": False,
                    "reasons": {"created_at_filter": "ignored"}}),
     "a created_at filter lists the tasks created since a moment (ignored)"),
    (ProbeReport(**{**dict.fromkeys(RELIED_ON, True), "total_given": None}),
     "the service counts what it lists, to check the plan by (too few tasks to tell)"),
])
def test_a_plan_the_probe_does_not_vouch_for_lists_every_task(report, reason):
    said = plan_increment(KNOWN, report, full_requests=100)
    assert isinstance(said, str) and reason in said


def check(**counts):
    return increment_of(KNOWN, listed=[], **{"missing": [], "counted_before_since": 4,
                                             "counted_since": 9, "listed_since": 9,
                                             **counts}).verdict()


def test_counts_that_add_up_make_the_listing_exact():
    assert check().startswith("exact: 4 tasks from before 2026-12-01T02:50:00.000Z known")


def test_a_task_gone_among_the_unfinished_is_taken_out_of_what_the_service_must_count():
    # "b" (created before the margin) went; "e" (after it) too, and "zz" was never known.
    record = increment_of(KNOWN, listed=["a", "new"], missing=["b", "e", "zz"],
                          counted_before_since=3, counted_since=5, listed_since=5)
    assert record.gone == ["b", "e"] and record.gone_before_since == 1
    assert record.carried == 5 - 1 - 2  # known, less the one listed again and the two gone
    assert "(2 gone)" in record.verdict()


@pytest.mark.parametrize(("counts", "reason"), [
    ({"counted_before_since": 3}, "finished tasks were deleted"),
    ({"counted_before_since": 5}, "tasks exist that no observation listed"),
    ({"counted_since": 10}, "the listing holds 9 tasks created since"),
    ({"counted_before_since": None}, "no count to check"),
])
def test_counts_that_do_not_add_up_are_a_doubt(counts, reason):
    with pytest.raises(IncrementDoubt, match=reason):
        check(**counts)


def test_the_plan_reads_the_unfinished_tasks_in_batches_where_it_can_else_one_by_one():
    options = {"full_requests": 100}
    batched = plan_increment(KNOWN, vouching(task_id_in_filter=True, get_by_id=True), **options)
    assert isinstance(batched, IncrementalPaging) and not batched.one_by_one
    assert batched.since == KNOWN.since_text and batched.unfinished == ["b", "d", "e"]
    one_by_one = plan_increment(KNOWN, vouching(get_by_id=True), **options)
    assert isinstance(one_by_one, IncrementalPaging) and one_by_one.one_by_one
    neither = plan_increment(KNOWN, vouching(reasons={"task_id_in_filter": "ignored"}),
                             **options)
    assert neither == (
        "the probe vouches for no way to read the unfinished tasks again: a task_id `in` "
        "filter lists the tasks asked for (ignored); GET /v1/tasks/{id} answers a listed task "
        "(too few tasks to tell)")


def test_reading_the_unfinished_tasks_one_by_one_must_cost_less_than_listing_everything():
    said = plan_increment(KNOWN, vouching(get_by_id=True), full_requests=3)
    assert said == "reading the 3 unfinished tasks again takes 3 requests, listing every task 3"
