"""The vectorized path of flatten_tasks gives exactly the table the per-value path gives."""

import dataclasses
from datetime import date, datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixpeek_emulator import TaskStore
from mixpeek_tasks.snapshot import flatten

EXPORT_DATE = date(2026, 11, 23)
EXPORTED_AT = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


def careful_only(monkeypatch):
    monkeypatch.setattr(flatten, "COLUMNS", tuple(
        dataclasses.replace(column, vectorize=lambda values: None)
        for column in flatten.COLUMNS))


def both_paths(monkeypatch, records):
    fast = flatten.flatten_tasks(records, EXPORT_DATE, EXPORTED_AT)
    with monkeypatch.context() as patched:
        careful_only(patched)
        careful = flatten.flatten_tasks(records, EXPORT_DATE, EXPORTED_AT)
    return fast, careful


def emulator_pages(seed: int, tasks: int = 3000) -> list[list]:
    store = TaskStore.generate(tasks, seed)
    store.churn(200)
    ids = sorted(store.tasks)
    return [[store.tasks[i] for i in ids[start:start + 1000]] for start in range(0, len(ids), 1000)]


@pytest.mark.parametrize("seed", [0, 1, 7, 42])
def test_emulator_pages_take_the_vectorized_path_and_match_the_careful_one(monkeypatch, seed):
    careful_columns = []
    real_careful = flatten._careful

    def spy(column, raws):
        careful_columns.append(column.name)
        return real_careful(column, raws)

    for records in emulator_pages(seed):
        with monkeypatch.context() as patched:
            patched.setattr(flatten, "_careful", spy)
            fast = flatten.flatten_tasks(records, EXPORT_DATE, EXPORTED_AT)
        assert careful_columns == [], "the generated account's values should all vectorize"
        _, careful = both_paths(monkeypatch, records)
        assert fast.tasks.equals(careful.tasks)
        assert fast.quarantine.equals(careful.quarantine)


def iso_text(moment: datetime, fraction: str, zone: str) -> str:
    text = moment.replace(tzinfo=None).isoformat(timespec=fraction)
    return text + zone


timestamps = st.one_of(
    st.builds(iso_text,
              st.datetimes(min_value=datetime(900, 1, 1), max_value=datetime(3100, 12, 31)),
              st.sampled_from(["seconds", "milliseconds", "microseconds"]),
              st.sampled_from(["Z", "+00:00", "+02:00", "-05:30", "+23:59", "-23:59", "",
                               "+24:00", "+0200", "z"])),
    st.from_regex(r"\A[12]\d{3}-[01]\d-[0-3]\dT[0-2]\d:[0-6]\d:[0-6]\d(\.\d{1,7})?Z\Z"),
    st.integers(min_value=-10**13, max_value=10**13),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e13, max_value=1e13),
)
scalars = st.one_of(
    st.none(), st.booleans(), st.text(max_size=12),
    st.integers(min_value=-2**64, max_value=2**64),
    st.sampled_from([0, 1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**53, 2**53 + 1, -1]),
    st.floats(), st.sampled_from([0.0, 12.0, 1.5, 1e30, -0.0]),
    st.sampled_from(["12", "1.5", "1e3", "true", "false", "nan", "-7"]),
)
values = st.one_of(scalars, timestamps,
                   st.lists(st.one_of(st.text(max_size=5), scalars), max_size=3),
                   st.dictionaries(st.text(max_size=3), scalars, max_size=2))
column_names = st.sampled_from([column.name for column in flatten.COLUMNS])


@st.composite
def pages(draw):
    """A page whose tasks share one odd key each, so whole columns hold mixed values."""
    top_key, nested_key = draw(column_names), draw(column_names)
    records = []
    for number in range(draw(st.integers(min_value=1, max_value=6))):
        record = {"task_id": f"t{number}", "task_type": "thumbnail", "status": "COMPLETED"}
        if draw(st.booleans()):
            record[top_key] = draw(values)
        if draw(st.booleans()):
            record["additional_data"] = {nested_key: draw(values)}
        records.append(record)
    return records


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(records=pages())
def test_vectorized_path_matches_the_careful_one_on_any_values(monkeypatch, records):
    try:
        fast = flatten.flatten_tasks(records, EXPORT_DATE, EXPORTED_AT)
    except (OverflowError, UnicodeEncodeError) as error:
        # The careful path raises on these too (e.g. float() of an integer past 1e308).
        with monkeypatch.context() as patched, pytest.raises(type(error)):
            careful_only(patched)
            flatten.flatten_tasks(records, EXPORT_DATE, EXPORTED_AT)
        return
    _, careful = both_paths(monkeypatch, records)
    assert fast.tasks.equals(careful.tasks), (fast.tasks.to_pylist(), careful.tasks.to_pylist())


@pytest.mark.parametrize("value", [
    "2026-11-20T08:00:00.123Z", "2026-11-20T12:00:00+02:00", "2026-02-30T08:00:00Z",
    "2026-11-20T23:59:60Z", "2026-11-20T08:00:00.1234567Z", "0999-01-01T00:00:00Z",
    "2026-11-20T08:00:00", "1763805600000", 1763805600000, 1763805600.5,
])
def test_timestamp_edge_cases_agree(monkeypatch, value):
    # Beside a value the vectorized path takes, so the odd one decides for the whole column.
    records = [{"task_id": "t", "task_type": "thumbnail", "status": "COMPLETED",
                "created_at": value},
               {"task_id": "u", "task_type": "thumbnail", "status": "COMPLETED",
                "created_at": "2026-11-20T08:00:00Z"}]
    fast, careful = both_paths(monkeypatch, records)
    assert fast.tasks.equals(careful.tasks)
