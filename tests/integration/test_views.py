"""The analysts' views over five observations, against figures computed here from the served
records."""

import re
from collections import Counter, defaultdict
from datetime import timedelta

import numpy as np
import pytest

from mixpeek_emulator.store import ERROR_TEMPLATES
from tests.support.multiday import (
    IN_FLIGHT,
    TERMINAL,
    UPLOAD_REASON,
    kept_statuses,
    latest_known,
    parse_time,
)

# The threshold the shared history's views were built with (tests/conftest.py).
STUCK_AFTER_HOURS = 24.0


@pytest.fixture(scope="module")
def model(history):
    """Per task: kept statuses per night, final kept status, first read time, created time."""
    nights = kept_statuses(history)
    first_read = {task_id: history.read_at[seen[0][0]][task_id]
                  for task_id, seen in nights.items()}
    created = {task_id: latest_known(history, task_id, "created_at") for task_id in nights}
    return {
        "nights": nights,
        "final": {task_id: seen[-1][1] for task_id, seen in nights.items()},
        "type": {task_id: latest_known(history, task_id, "task_type") for task_id in nights},
        "first_read": first_read,
        "born": {task_id: parse_time(created[task_id]) if created[task_id] else first_read[task_id]
                 for task_id in nights},
    }


def _outcomes(statuses):
    counts = Counter(statuses)
    terminal = sum(counts[s] for s in TERMINAL)
    return (len(statuses), terminal, counts["COMPLETED"], counts["COMPLETED_WITH_ERRORS"],
            counts["FAILED"], counts["CANCELED"], sum(counts[s] for s in IN_FLIGHT),
            len(statuses) - terminal - sum(counts[s] for s in IN_FLIGHT))


@pytest.mark.parametrize("view, period", [
    ("task_success_rate", "day"), ("task_success_rate_weekly", "week")])
def test_success_rate_per_day_and_week(history, model, view, period):
    groups = defaultdict(list)
    for task_id, status in model["final"].items():
        day = model["born"][task_id].date()
        start = day - timedelta(days=day.weekday()) if period == "week" else day
        groups[(model["type"][task_id], start)].append(status)
    rows = history.warehouse.query(
        f"SELECT task_type, {period}, tasks, terminal, completed, completed_with_errors, failed,"
        f" canceled, in_flight, other_status, success_rate, partial_success_rate, failure_rate"
        f" FROM {view}").rows
    assert len(rows) == len(groups)
    for task_type, start, *counts, success, partial, failure in rows:
        want = _outcomes(groups[(task_type, start)])
        assert tuple(counts) == want
        terminal = want[1]
        assert (success, partial, failure) == (
            (pytest.approx(want[2] / terminal), pytest.approx(want[3] / terminal),
             pytest.approx(want[4] / terminal)) if terminal else (None, None, None))


def _duration(history, model, task_id):
    """(source, seconds, error bar) by the issue's rules, from the served records."""
    def known(field):
        return latest_known(history, task_id, field)

    if known("duration_ms") is not None:
        return "api_duration", known("duration_ms") / 1000, None
    end, start = known("completed_at") or known("updated_at"), known("started_at") or known(
        "created_at")
    if end and start:
        return "api_timestamps", (parse_time(end) - parse_time(start)).total_seconds(), None
    unfinished = [night for night, kept, _ in model["nights"][task_id] if kept not in TERMINAL]
    if not unfinished:
        return None, None, None
    finished = next(night for night, kept, _ in model["nights"][task_id] if kept in TERMINAL)
    read = history.read_at
    return ("observed",
            (read[finished][task_id] - read[unfinished[0]][task_id]).total_seconds(),
            (read[finished][task_id] - read[unfinished[-1]][task_id]).total_seconds())


def test_latency_labels_each_source_and_never_mixes_them(history, model):
    samples, bars = defaultdict(list), defaultdict(list)
    for task_id, status in model["final"].items():
        if status not in TERMINAL:
            continue
        source, seconds, bar = _duration(history, model, task_id)
        if source and seconds >= 0:
            samples[(model["type"][task_id], source)].append(seconds)
            bars[(model["type"][task_id], source)].append(bar)
    assert {source for _, source in samples} == {"api_duration", "api_timestamps", "observed"}
    rows = history.warehouse.query(
        "SELECT task_type, duration_source, tasks, p50_seconds, p90_seconds, p99_seconds,"
        " error_bar_seconds FROM task_latency").rows
    assert {(r[0], r[1]) for r in rows} == set(samples)
    for task_type, source, count, p50, p90, p99, bar in rows:
        values = samples[(task_type, source)]
        assert count == len(values)
        assert (p50, p90, p99) == pytest.approx(
            tuple(np.percentile(values, [50, 90, 99])), rel=1e-6, abs=1e-3)
        if source == "observed":
            assert bar == pytest.approx(max(bars[(task_type, source)]), abs=1e-3)
            assert 0 < bar <= max(samples[(task_type, source)])
        else:
            assert bar is None


def test_failures_group_by_reason_without_ids_or_numbers(history, model):
    def template_of(error):
        if error is None:
            return "(no error message)"
        if re.fullmatch(r"Upload \S+ failed after \S+ with HTTP 503 \(attempt \d\)", error):
            return UPLOAD_REASON
        (template,) = [t for t in ERROR_TEMPLATES if re.fullmatch(
            re.escape(t).replace(r"\{obj\}", r"\S+").replace(r"\{bkt\}", r"\S+")
            .replace(r"\{job\}", r"\S+"), error)]
        return (template.format(obj="<id>", bkt="<id>", job="<id>")
                .replace("16", "<n>").replace("600", "<n>").replace("3 of 3", "<n> of <n>"))

    expected = Counter()
    for task_id, status in model["final"].items():
        if status == "FAILED":
            expected[(model["type"][task_id],
                      template_of(latest_known(history, task_id, "error")))] += 1
    assert any(reason == "(no error message)" for _, reason in expected)
    assert sum(n for (_, reason), n in expected.items() if reason == UPLOAD_REASON) == 8
    rows = history.warehouse.query(
        "SELECT task_type, reason, failures, share_of_type_failures, rank"
        " FROM task_failure_reasons").rows
    assert {(t, reason): n for t, reason, n, _, _ in rows} == dict(expected)
    per_type = Counter()
    for (task_type, _), n in expected.items():
        per_type[task_type] += n
    for task_type, reason, failures, share, rank in rows:
        assert share == pytest.approx(failures / per_type[task_type])
        ordered = sorted((-n, r) for (t, r), n in expected.items() if t == task_type)
        assert ordered.index((-failures, reason)) + 1 == rank
    failed = history.warehouse.query("SELECT count(*) FROM task_failures").rows[0][0]
    assert failed == sum(expected.values())


def _stuck(history, model, hours):
    as_of = history.finished_at[history.observations[-1]]
    listed = history.served[history.observations[-1]]
    return {task_id for task_id, status in model["final"].items()
            if status in IN_FLIGHT and task_id in listed
            and as_of - model["born"][task_id] > timedelta(hours=hours)}


@pytest.mark.parametrize("hours", [0, STUCK_AFTER_HOURS, 240])
def test_stuck_tasks_are_in_flight_past_the_threshold_with_their_tier_progress(
        history, model, hours):
    try:
        history.warehouse.build_views(stuck_after_hours=hours)
        rows = history.warehouse.query(
            "SELECT task_id, age_hours, current_tier, total_tiers, tier_progress, object_count"
            " FROM stuck_tasks").rows
    finally:
        history.warehouse.build_views(stuck_after_hours=STUCK_AFTER_HOURS)
    assert {r[0] for r in rows} == _stuck(history, model, hours)
    as_of = history.finished_at[history.observations[-1]]
    for task_id, age, tier, tiers, progress, objects in rows:
        assert age == pytest.approx((as_of - model["born"][task_id]).total_seconds() / 3600,
                                    abs=1e-6)
        assert (tier, tiers, objects) == tuple(latest_known(history, task_id, f) for f in (
            "current_tier", "total_tiers", "object_count"))
        assert progress == (None if tiers is None else "not started" if tier is None
                            else f"tier {tier + 1} of {tiers}")
    if hours == 0:  # every in-flight task: batches not started and batches on a tier too
        assert {None, "not started"} <= {r[4] for r in rows}
        assert any(r[4] and r[4].startswith("tier ") for r in rows)


def test_the_stuck_threshold_changes_the_count(history, model):
    assert 0 < len(_stuck(history, model, 240)) < len(_stuck(history, model, STUCK_AFTER_HOURS))


def test_batch_progress_follows_each_batch_observation_by_observation(history, model):
    expected = {}
    for night in history.observations:
        for task_id, task in history.served[night].items():
            batch_id = latest_known(history, task_id, "batch_id")
            if batch_id is None:
                continue
            data = task.get("additional_data") or {}
            thin = "batch_id" not in data
            tier, tiers, objects = (
                latest_known(history, task_id, f) if thin else data.get(f)
                for f in ("current_tier", "total_tiers", "object_count"))
            kept = next(k for n, k, _ in model["nights"][task_id] if n == night)
            done = tiers if kept in ("COMPLETED", "COMPLETED_WITH_ERRORS") else (tier or 0)
            expected[(batch_id, night)] = (task_id, kept, tier, tiers, done, objects, thin)
    rows = history.warehouse.query(
        "SELECT batch_id, observation_id, task_id, status, current_tier, total_tiers, tiers_done,"
        " object_count, from_fallback FROM batch_progress").rows
    assert {(r[0], r[1]): r[2:] for r in rows} == expected and len(rows) == len(expected)
    assert sum(r[-1] for r in rows) >= len(history.thinned) * 3  # thinned on nights 3, 4, 5


def test_daily_summary_has_one_row_per_observation(history, model):
    first_terminal = {}
    for task_id, seen in model["nights"].items():
        finished = [(night, kept) for night, kept, _ in seen if kept in TERMINAL]
        if finished:
            first_terminal[task_id] = finished[0]
    expected = {}
    for night in history.observations:
        served = history.served[night]
        as_of = history.finished_at[night]
        kept = {task_id: next(k for n, k, _ in model["nights"][task_id] if n == night)
                for task_id in served}
        done = Counter(status for n, status in first_terminal.values() if n == night)
        finished = sum(done.values())
        in_flight = [t for t, s in kept.items() if s in IN_FLIGHT]
        expected[night] = (
            len(served),
            sum(1 for seen in model["nights"].values() if seen[0][0] == night),
            finished, done["COMPLETED"], done["COMPLETED_WITH_ERRORS"], done["FAILED"],
            done["CANCELED"], done["COMPLETED"] / finished, len(in_flight),
            sum(1 for t in in_flight if as_of - model["born"][t] > timedelta(hours=24)),
            sum(1 for t in served.values() if (t.get("additional_data") or {}).get("from_mongodb")),
            sum(1 for t, s in kept.items() if s != served[t]["status"]),
            0)
    rows = history.warehouse.query(
        "SELECT observation_id, tasks_listed, new_tasks, finished, completed,"
        " completed_with_errors, failed, canceled, success_rate, in_flight, stuck,"
        " fallback_records, status_regressions, quarantined FROM daily_summary").rows
    assert len(rows) == len(history.observations)
    for observation, *figures in rows:
        assert tuple(figures) == pytest.approx(expected[observation])
    assert expected[history.observations[3]][11] == len(history.regressed)
