"""Pure functions that turn pages of Mixpeek task records into typed Arrow tables.

Nothing is lost on the way: every documented field gets a typed column, the original
`additional_data`, `inputs`, `outputs` and any undeclared top-level fields are kept as JSON
text, and a value that cannot be typed leaves the column null and says why in
`flatten_issues` (its original stays in the JSON). A record that cannot be a task row at all
(no task_id, no status, not an object, a repeated task_id) goes to the quarantine table
with its raw JSON and the reason.

Speed: a page is typed column by column. Where every value of a column on a page has the plain
JSON type the column expects, Arrow converts the whole column at once (`Column.vectorize`); any
other column of that page goes through the per-value coercion functions (`_careful`), which
define the behaviour. The fast path only ever takes values whose result it knows to be equal.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import KW_ONLY, dataclass
from datetime import date, datetime, timezone
from functools import partial
from itertools import chain
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from mixpeek_tasks.api.vocabulary import DECLARED_TASK_FIELDS

UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1


class Unusable(ValueError):
    """A value that cannot be given its column's type; the message says why."""


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, dict, list)):
        raise Unusable(f"expected text, got {type(value).__name__}")
    return str(value)


def _whole_number(value: Any, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise Unusable("expected a number, got a boolean")
    if isinstance(value, str):
        try:
            value = float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            raise Unusable(f"expected a number, got text {value[:40]!r}") from None
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise Unusable(f"expected a whole number, got {value!r}")
        value = int(value)
    if not isinstance(value, int):
        raise Unusable(f"expected a number, got {type(value).__name__}")
    if not low <= value <= high:
        raise Unusable(f"{value} is outside {low}..{high}")
    return value


def _tier(value: Any) -> int:
    return _whole_number(value, 0, INT32_MAX)


def _count(value: Any) -> int:
    return _whole_number(value, 0, INT64_MAX)


def _real(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise Unusable(f"expected a number, got {type(value).__name__}")
    try:
        result = float(value)
    except OverflowError:  # an integer past what a double holds, e.g. 10**400
        raise Unusable(f"{str(value)[:40]}... is too large for a number column") from None
    except ValueError:
        raise Unusable(f"expected a number, got text {value[:40]!r}") from None
    if not math.isfinite(result):
        raise Unusable(f"expected a finite number, got {value!r}")
    return result


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise Unusable(f"expected a boolean, got {type(value).__name__}")


def _timestamp(value: Any) -> datetime:
    """ISO 8601 text (naive means UTC), or epoch seconds / milliseconds as a number."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise Unusable(f"not an ISO 8601 timestamp: {value[:40]!r}") from None
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=timezone.utc)
        return parsed.astimezone(timezone.utc)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            seconds = value / 1000 if abs(value) > 1e11 else value
            return datetime.fromtimestamp(seconds, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise Unusable(f"epoch value {value!r} is out of range") from None
    raise Unusable(f"expected a timestamp, got {type(value).__name__}")


def _text_list(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise Unusable(f"expected a list, got {type(value).__name__}")
    if all(isinstance(item, str) for item in value):
        return value
    raise Unusable("list holds values that are not text")


def to_json(value: Any) -> str:
    """JSON text of a decoded value; falls back to the stdlib for what orjson refuses."""
    try:
        return orjson.dumps(value).decode()
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(value, ensure_ascii=False, default=repr)


def _only(values: Iterable[Any], *types: type) -> bool:
    """Every value is None or exactly of one of `types` (subclasses, e.g. bool, are not)."""
    return set(map(type, values)) <= {type(None), *types}


# What both `datetime.fromisoformat` and Arrow's cast read alike: years 1000-2999 (no
# overflow when moved to UTC), an explicit zone, at most microseconds.
_ISO_WITH_ZONE = (r"^[12]\d{3}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?"
                  r"(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$")


def _vector_text(values: list) -> pa.Array | None:
    return pa.array(values, pa.string()) if _only(values, str) else None


def _vector_whole(values: list, low: int, high: int) -> pa.Array | None:
    if not _only(values, int):
        return None
    try:
        array = pa.array(values, pa.int64())
    except OverflowError:
        return None
    bounds = pc.min_max(array)
    low_seen, high_seen = bounds["min"].as_py(), bounds["max"].as_py()
    return array if low_seen is None or low <= low_seen and high_seen <= high else None


def _vector_real(values: list) -> pa.Array | None:
    if not _only(values, int, float):
        return None
    try:
        array = pa.array(values, pa.float64())
    except (OverflowError, pa.ArrowInvalid):  # integers a double cannot hold exactly
        return None
    return array if pc.all(pc.is_finite(array)).as_py() is not False else None


def _vector_flag(values: list) -> pa.Array | None:
    return pa.array(values, pa.bool_()) if _only(values, bool) else None


def _vector_timestamp(values: list) -> pa.Array | None:
    if not _only(values, str):
        return None
    text = pa.array(values, pa.string())
    if pc.all(pc.match_substring_regex(text, _ISO_WITH_ZONE)).as_py() is False:
        return None
    try:
        return text.cast(UTC_TIMESTAMP)
    except pa.ArrowInvalid:  # a well-shaped impossible date, e.g. February 30
        return None


def _vector_text_list(values: list) -> pa.Array | None:
    # Items must be text: a null item makes the careful path refuse the list, so here too.
    if _only(values, list) and set(map(type, chain.from_iterable(filter(None, values)))) <= {str}:
        return pa.array(values, pa.list_(pa.string()))
    return None


@dataclass(frozen=True)
class Column:
    """A typed column: where its value is read from and how it is typed.

    `coerce` types one value or raises Unusable; `vectorize` types a page's values at once or
    returns None when any of them needs `coerce`. The value is read at the record's top level,
    else in its additional_data; `top_level=False` or `in_additional_data=False` reads only
    the other place.
    """

    name: str
    type: pa.DataType
    coerce: Callable[[Any], Any]
    vectorize: Callable[[list], pa.Array | None]
    _: KW_ONLY
    top_level: bool = True
    in_additional_data: bool = True


_vector_tier = partial(_vector_whole, low=0, high=INT32_MAX)
_vector_count = partial(_vector_whole, low=0, high=INT64_MAX)

COLUMNS = (
    Column("error", pa.string(), _text, _vector_text),
    Column("created_at", UTC_TIMESTAMP, _timestamp, _vector_timestamp),
    Column("updated_at", UTC_TIMESTAMP, _timestamp, _vector_timestamp),
    Column("started_at", UTC_TIMESTAMP, _timestamp, _vector_timestamp),
    Column("completed_at", UTC_TIMESTAMP, _timestamp, _vector_timestamp),
    Column("duration_ms", pa.float64(), _real, _vector_real),
    Column("batch_id", pa.string(), _text, _vector_text, top_level=False),
    Column("bucket_id", pa.string(), _text, _vector_text, top_level=False),
    Column("namespace_id", pa.string(), _text, _vector_text, top_level=False),
    Column("job_id", pa.string(), _text, _vector_text, top_level=False),
    Column("current_tier", pa.int32(), _tier, _vector_tier, top_level=False),
    Column("total_tiers", pa.int32(), _tier, _vector_tier, top_level=False),
    Column("object_count", pa.int64(), _count, _vector_count, top_level=False),
    Column("collection_ids", pa.list_(pa.string()), _text_list, _vector_text_list, top_level=False),
    Column("sample_object_ids", pa.list_(pa.string()), _text_list, _vector_text_list,
           top_level=False),
    Column("from_mongodb", pa.bool_(), _flag, _vector_flag, top_level=False),
    Column("queue_position", pa.int64(), _count, _vector_count, in_additional_data=False),
    Column("estimated_wait_minutes", pa.float64(), _real, _vector_real, in_additional_data=False),
)
JSON_COLUMNS = ("inputs_json", "outputs_json", "additional_data_json", "extra_json")

TASK_SCHEMA = pa.schema(
    [
        pa.field("export_date", pa.date32(), nullable=False),
        pa.field("exported_at", UTC_TIMESTAMP, nullable=False),
        pa.field("task_id", pa.string(), nullable=False),
        pa.field("task_type", pa.string(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        *(pa.field(column.name, column.type) for column in COLUMNS),
        *(pa.field(name, pa.string()) for name in JSON_COLUMNS),
        pa.field("flatten_issues", pa.list_(pa.string())),
    ]
)
QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("export_date", pa.date32(), nullable=False),
        pa.field("exported_at", UTC_TIMESTAMP, nullable=False),
        pa.field("task_id", pa.string()),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("raw_json", pa.string(), nullable=False),
    ]
)


@dataclass(frozen=True)
class FlatPage:
    tasks: pa.Table
    quarantine: pa.Table


def _rejection(record: Any, seen: set[str]) -> str | None:
    if not isinstance(record, dict):
        return f"record is {type(record).__name__}, not an object"
    task_id = record.get("task_id")
    if not isinstance(task_id, str) or not task_id:
        return "task_id is missing or not a non-empty string"
    for required in ("task_type", "status"):
        value = record.get(required)
        if not isinstance(value, str) or not value:
            return f"{required} is missing or not a non-empty string"
    if task_id in seen:
        return "task_id repeated within one page"
    return None


def _careful(column: Column, raws: list) -> tuple[pa.Array, list[tuple[int, str]]]:
    """Type values one by one; return the column and (row, issue) for each untypable value."""
    values: list = []
    issues: list[tuple[int, str]] = []
    for row, raw in enumerate(raws):
        value = None
        if raw is not None:
            try:
                value = column.coerce(raw)
            except Unusable as problem:
                issues.append((row, f"{column.name}: {problem}"))
        values.append(value)
    return pa.array(values, column.type), issues


def _typed(column: Column, raws: list) -> tuple[pa.Array, list[tuple[int, str]]]:
    array = column.vectorize(raws)
    if array is None:
        return _careful(column, raws)
    return array.cast(column.type), []


def _json_texts(values: list) -> pa.Array:
    try:
        texts = [None if value is None else orjson.dumps(value).decode() for value in values]
    except TypeError:  # orjson.JSONEncodeError is one; to_json knows what to do instead
        texts = [None if value is None else to_json(value) for value in values]
    return pa.array(texts, pa.string())


def _raw_values(column: Column, tasks: list[dict], nested: list[dict]) -> list:
    """Each task's value for `column`: top level first, else in additional_data."""
    name = column.name
    if not column.in_additional_data:
        return [task.get(name) for task in tasks]
    if not column.top_level:
        return [data.get(name) for data in nested]
    return [value if (value := task.get(name)) is not None else data.get(name)
            for task, data in zip(tasks, nested)]


def _screen(records: Iterable[Any]) -> tuple[list[dict], dict[str, list]]:
    """Split a page into task records and quarantine columns (task_id, reason, raw_json)."""
    tasks: list[dict] = []
    quarantined: dict[str, list] = {"task_id": [], "reason": [], "raw_json": []}
    seen: set[str] = set()
    for record in records:
        reason = _rejection(record, seen)
        if reason is None:
            seen.add(record["task_id"])
            tasks.append(record)
            continue
        task_id = record.get("task_id") if isinstance(record, dict) else None
        quarantined["task_id"].append(task_id if isinstance(task_id, str) else None)
        quarantined["reason"].append(reason)
        quarantined["raw_json"].append(to_json(record))
    return tasks, quarantined


def _repeat(value: Any, type_: pa.DataType, count: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, type_), count)


def flatten_tasks(records: Iterable[Any], observed_on: date, exported_at: datetime) -> FlatPage:
    """Type one page of task records; what cannot be a row is quarantined with its reason."""
    tasks, quarantined = _screen(records)
    count = len(tasks)
    extra_data = [task.get("additional_data") for task in tasks]
    nested = [data if isinstance(data, dict) else {} for data in extra_data]
    issues: dict[int, list[str]] = {
        row: [f"additional_data is {type(data).__name__}, kept as JSON only"]
        for row, data in enumerate(extra_data)
        if data is not None and not isinstance(data, dict)
    }
    columns: dict[str, pa.Array] = {
        # The column keeps its earlier name, so earlier trees and their readers share one
        # schema; it holds the observation's UTC date, never a label a caller chose.
        "export_date": _repeat(observed_on, pa.date32(), count),
        "exported_at": _repeat(exported_at, UTC_TIMESTAMP, count),
    }
    for name in ("task_id", "task_type", "status"):
        columns[name] = pa.array([task[name] for task in tasks], pa.string())
    for column in COLUMNS:
        columns[column.name], problems = _typed(column, _raw_values(column, tasks, nested))
        for row, problem in problems:
            issues.setdefault(row, []).append(problem)
    for name, key in zip(JSON_COLUMNS, ("inputs", "outputs", "additional_data")):
        columns[name] = _json_texts([task.get(key) for task in tasks])
    extras = [{k: v for k, v in task.items() if k not in DECLARED_TASK_FIELDS} for task in tasks]
    columns["extra_json"] = _json_texts([extra or None for extra in extras])
    columns["flatten_issues"] = pa.array([issues.get(row) for row in range(count)],
                                         pa.list_(pa.string()))
    quarantined["export_date"] = [observed_on] * len(quarantined["reason"])
    quarantined["exported_at"] = [exported_at] * len(quarantined["reason"])
    return FlatPage(
        pa.Table.from_arrays([columns[field.name] for field in TASK_SCHEMA], schema=TASK_SCHEMA),
        pa.Table.from_pydict(quarantined, schema=QUARANTINE_SCHEMA),
    )
