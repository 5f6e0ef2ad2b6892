"""Pure rules of the paging strategies and the reconciliation: id ranges cut from real ids,
and the verdict on a snapshot's counts."""

import random
import uuid
from datetime import datetime, timezone

import pytest

from mixpeek_tasks.api.paging.keyset import ranges_between
from mixpeek_tasks.snapshot import reconcile
from mixpeek_tasks.snapshot.coverage import ServiceCounts, SnapshotContent
from mixpeek_tasks.snapshot.export import progress_line
from mixpeek_tasks.snapshot.reconcile import SnapshotIncomplete, verdict_for

RNG = random.Random(3)
UUIDS = sorted(str(uuid.UUID(int=RNG.getrandbits(128), version=4)) for _ in range(5000))
PREFIXED = sorted(f"task_{RNG.getrandbits(96):024x}" for _ in range(5000))
SHOUTED = sorted(f"JOB-{RNG.randrange(10**9):09d}" for _ in range(5000))


@pytest.mark.parametrize("ids", [UUIDS, PREFIXED, SHOUTED], ids=["uuid", "task_hex", "JOB-num"])
@pytest.mark.parametrize("parts", [2, 4, 8])
def test_ranges_cut_from_a_sample_cover_every_id_once_and_share_the_work(ids, parts):
    sample = ids[:50] + ids[-50:]  # what the probe sees: the lowest and the highest ids
    ranges = ranges_between(sample, parts)
    assert len(ranges) == parts
    per_range = [sum(1 for task_id in ids if task_id in r) for r in ranges]
    assert sum(per_range) == len(ids)  # disjoint and covering
    assert max(per_range) < 2.5 * len(ids) / parts, per_range  # no range holds most of it


@pytest.mark.parametrize("sample", [[], ["only"], ["a", "a"]])
def test_too_small_a_sample_gives_one_open_range(sample):
    (whole,) = ranges_between(sample, 8)
    assert whole.start is None and whole.end is None


def _content(listed, before):
    moment = datetime(2026, 11, 23, tzinfo=timezone.utc)
    return SnapshotContent(listed, before, moment, moment, 0.0)


@pytest.mark.parametrize(("start", "end", "content", "positional", "outcome"), [
    # every task from before the export is listed: exact, whatever the strategy
    (ServiceCounts(100, 90), ServiceCounts(104, 90), _content(104, 90), True, "exact"),
    # one missing
    (ServiceCounts(100, 90), ServiceCounts(104, 90), _content(103, 89), False, "1 missing"),
    # deletions while a positional listing ran cannot be told from skips
    (ServiceCounts(100, 90), ServiceCounts(98, 88), _content(100, 90), True, "deleted"),
    # ...while a keyed listing is immune to them, and need not count them
    (ServiceCounts(100, 90), ServiceCounts(98, 88), _content(100, 90), False, "exact"),
    (ServiceCounts(100, None), ServiceCounts(98, 88), _content(100, 90), False, "exact"),
    (ServiceCounts(100, None), ServiceCounts(98, 88), _content(100, 90), True, "not counted"),
    # no created_at filter: the smaller total must be listed
    (ServiceCounts(100, None), ServiceCounts(103, None), _content(100, 100), False, "exact"),
    (ServiceCounts(100, None), ServiceCounts(103, None), _content(99, 99), False, "1 missing"),
    # no total at all
    (ServiceCounts(None, None), ServiceCounts(None, None), _content(5, 5), False, "unreconciled"),
    (ServiceCounts(None, None), ServiceCounts(None, None), _content(5, 5), True, "no total"),
    # a total at the end only: a positional listing's deletions are unknown
    (ServiceCounts(None, None), ServiceCounts(5, None), _content(5, 5), True, "not counted"),
])
def test_the_verdict_on_a_snapshot(start, end, content, positional, outcome):
    try:
        verdict = verdict_for(start, end, content, positional=positional)
    except SnapshotIncomplete as refused:
        verdict = str(refused)
        assert "not published" in verdict
    assert outcome in verdict


@pytest.mark.parametrize(("records", "total", "expected"), [
    (5_000, 20_000, "200 pages, 5,000 tasks, 1,000 tasks/s, 25% of 20,000, about 15s left"),
    (20_500, 20_000, "200 pages, 20,500 tasks, 1,000 tasks/s, 99% of 20,000, about 0s left"),
    (5_000, None, "200 pages, 5,000 tasks, 1,000 tasks/s"),
])
def test_progress_says_how_far_and_how_long_when_the_total_is_known(records, total, expected):
    assert progress_line(200, records, 1000.0, total) == expected


@pytest.mark.parametrize(("positional", "total", "answers", "asked_before_the_end", "asked"), [
    # a keyed listing counts once it holds the probe's total, while its last pages come
    (False, 10, [ServiceCounts(12, 9)], True, 1),
    # ...and again after the last page if that count had no created_before to be strict with
    (False, 10, [ServiceCounts(12, None), ServiceCounts(12, None)], True, 2),
    # a listing by position counts after its last page: its count also measures deletions
    (True, 10, [ServiceCounts(12, 9)], False, 1),
    # with no total from the probe there is nothing to start by
    (False, None, [ServiceCounts(12, 9)], False, 1),
])
def test_the_end_count_starts_early_only_where_it_can_hide_no_missing_task(
        monkeypatch, positional, total, answers, asked_before_the_end, asked):
    remaining = list(answers)
    calls = []

    def count_service(client, cutoff):
        calls.append(cutoff)
        return remaining.pop(0)

    monkeypatch.setattr(reconcile, "count_service", count_service)
    cutoff = datetime(2026, 11, 23, tzinfo=timezone.utc)
    end = reconcile.EndCount(None, cutoff, total=total, positional=positional)
    for records in (4, 9, 10, 11):
        end.listed(records)
        if records == 9:
            assert end.early is None  # not before the listing holds the total
    assert (end.early is not None) == asked_before_the_end
    assert end.counts() == answers[-1]
    assert len(calls) == asked and set(calls) == {cutoff}
