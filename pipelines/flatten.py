"""Pure functions that turn pages of Mixpeek task records into typed Arrow tables.

Nothing is lost on the way: every documented field gets a typed column, the original
`additional_data`, `inputs`, `outputs` and any undeclared top-level fields are kept as JSON
text, and a value that cannot be typed leaves the column null and says why in
`flatten_issues` (its original stays in the JSON). A record that cannot be a task row at all
(no task_id, no status, not an object, a repeated task_id) goes to the quarantine table
with its raw JSON and the reason.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

import orjson
import pyarrow as pa

from pipelines.tasks import DECLARED_TASK_FIELDS

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
        seconds = value / 1000 if abs(value) > 1e11 else value
        try:
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


@dataclass(frozen=True)
class Column:
    """A typed column: where its value is read from and how it is typed."""

    name: str
    type: pa.DataType
    coerce: Callable[[Any], Any]
    top_level: bool
    in_additional_data: bool


COLUMNS = (
    Column("error", pa.string(), _text, True, True),
    Column("created_at", UTC_TIMESTAMP, _timestamp, True, True),
    Column("updated_at", UTC_TIMESTAMP, _timestamp, True, True),
    Column("started_at", UTC_TIMESTAMP, _timestamp, True, True),
    Column("completed_at", UTC_TIMESTAMP, _timestamp, True, True),
    Column("duration_ms", pa.float64(), _real, True, True),
    Column("batch_id", pa.string(), _text, False, True),
    Column("bucket_id", pa.string(), _text, False, True),
    Column("namespace_id", pa.string(), _text, False, True),
    Column("job_id", pa.string(), _text, False, True),
    Column("current_tier", pa.int32(), _tier, False, True),
    Column("total_tiers", pa.int32(), _tier, False, True),
    Column("object_count", pa.int64(), _count, False, True),
    Column("collection_ids", pa.list_(pa.string()), _text_list, False, True),
    Column("sample_object_ids", pa.list_(pa.string()), _text_list, False, True),
    Column("from_mongodb", pa.bool_(), _flag, False, True),
    Column("queue_position", pa.int64(), _count, True, False),
    Column("estimated_wait_minutes", pa.float64(), _real, True, False),
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


def flatten_tasks(records: Iterable[Any], export_date: date, exported_at: datetime) -> FlatPage:
    """Type one page of task records; what cannot be a row is quarantined with its reason."""
    rows: dict[str, list] = {field.name: [] for field in TASK_SCHEMA}
    quarantined: dict[str, list] = {field.name: [] for field in QUARANTINE_SCHEMA}
    seen: set[str] = set()
    for record in records:
        reason = _rejection(record, seen)
        if reason is not None:
            task_id = record.get("task_id") if isinstance(record, dict) else None
            quarantined["task_id"].append(task_id if isinstance(task_id, str) else None)
            quarantined["reason"].append(reason)
            quarantined["raw_json"].append(to_json(record))
            continue
        seen.add(record["task_id"])
        for name in ("task_id", "task_type", "status"):
            rows[name].append(record[name])
        issues: list[str] = []
        extra_data = record.get("additional_data")
        nested = extra_data if isinstance(extra_data, dict) else {}
        if extra_data is not None and not isinstance(extra_data, dict):
            issues.append(f"additional_data is {type(extra_data).__name__}, kept as JSON only")
        for column in COLUMNS:
            raw = record.get(column.name) if column.top_level else None
            if raw is None and column.in_additional_data:
                raw = nested.get(column.name)
            value = None
            if raw is not None:
                try:
                    value = column.coerce(raw)
                except Unusable as problem:
                    issues.append(f"{column.name}: {problem}")
            rows[column.name].append(value)
        for name, key in zip(JSON_COLUMNS, ("inputs", "outputs", "additional_data")):
            value = record.get(key)
            rows[name].append(None if value is None else to_json(value))
        extra = {k: v for k, v in record.items() if k not in DECLARED_TASK_FIELDS}
        rows["extra_json"].append(to_json(extra) if extra else None)
        rows["flatten_issues"].append(issues or None)
    rows["export_date"] = [export_date] * len(rows["task_id"])
    rows["exported_at"] = [exported_at] * len(rows["task_id"])
    quarantined["export_date"] = [export_date] * len(quarantined["reason"])
    quarantined["exported_at"] = [exported_at] * len(quarantined["reason"])
    return FlatPage(
        pa.Table.from_pydict(rows, schema=TASK_SCHEMA),
        pa.Table.from_pydict(quarantined, schema=QUARANTINE_SCHEMA),
    )
