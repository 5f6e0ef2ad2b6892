"""The list endpoint's query language as the emulator understands it: filters (AND/OR/NOT,
comparison and string operators, `case_sensitive`), dotted field lookup and sort keys."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any

from mixpeek_emulator.errors import ApiError

OPERATORS = frozenset(
    {"eq", "ne", "gt", "lt", "gte", "lte", "in", "nin", "contains", "starts_with", "ends_with",
     "regex", "exists", "is_null"}
)
_LOGICAL_KEYS = ("AND", "OR", "NOT")


def text_bounds(filters: dict | None, field_name: str) -> tuple[str | None, str | None]:
    """Tightest [low, high) range of `field_name` implied by top-level AND conditions on text
    compared case-sensitively (a case-folded comparison does not follow the text's order)."""
    low = high = None
    if not filters or not filters.get("case_sensitive"):
        return None, None
    for cond in filters.get("AND") or []:
        if cond.get("field") != field_name or not isinstance(cond.get("value"), str):
            continue
        op, value = cond.get("operator"), cond["value"]
        if op in ("gt", "gte") and (low is None or value > low):
            low = value
        elif op == "lt" and (high is None or value < high):
            high = value
    return low, high


RANGE_OPERATORS = frozenset({"gt", "gte", "lt", "lte"})


def created_at_range(filters: Any) -> tuple[bool, list[tuple[str, str]]] | None:
    """`(case_sensitive, [(operator, value), ...])` when `filters` is nothing but an AND of
    range conditions on `created_at` against text (what a count by creation time sends), so
    the count can bisect a sorted index; None for any other filter, which is scanned."""
    if not isinstance(filters, dict) or set(filters) - {"AND", "case_sensitive"}:
        return None
    conditions = filters.get("AND")
    if not isinstance(conditions, list) or not conditions:
        return None
    bounds = []
    for cond in conditions:
        if not (isinstance(cond, dict) and cond.get("field") == "created_at"
                and cond.get("operator") in RANGE_OPERATORS and isinstance(cond.get("value"), str)):
            return None
        bounds.append((cond["operator"], cond["value"]))
    return bool(filters.get("case_sensitive", False)), bounds


def without_conditions(filters: Any, ignored: Callable[[dict], bool]) -> Any:
    """`filters` with every condition `ignored` picks taken out (a logical list left empty goes
    too; None when nothing is left): how a service that does not support a field or an
    operator, and says nothing, reads them. Anything but an object is left for
    compile_filters to refuse."""
    if not isinstance(filters, dict):
        return filters
    if "field" in filters and "operator" in filters:
        return None if ignored(filters) else filters
    kept: dict = {}
    for key, value in filters.items():
        if key in _LOGICAL_KEYS and isinstance(value, list):
            children = [without_conditions(child, ignored) for child in value]
            value = [child for child in children if child is not None]
            if not value:
                continue
        elif (key != "case_sensitive" and key not in _LOGICAL_KEYS
              and ignored({"field": key, "operator": "eq", "value": value})):
            continue
        kept[key] = value
    return kept if set(kept) - {"case_sensitive"} else None


def task_ids_named(filters: Any) -> frozenset[str] | None:
    """The ids a top-level AND condition `task_id in [...]`, compared case-sensitively, limits
    the listing to (what a service answers from its id index, not by a scan); None when the
    filters name no such set."""
    if not isinstance(filters, dict) or not filters.get("case_sensitive"):
        return None
    for cond in filters.get("AND") or []:
        if (isinstance(cond, dict) and cond.get("field") == "task_id"
                and cond.get("operator") == "in" and isinstance(cond.get("value"), list)):
            return frozenset(v for v in cond["value"] if isinstance(v, str))
    return None


def lookup(task: dict, dotted: str) -> Any:
    value: Any = task
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def sort_key(value: Any) -> tuple:
    # Missing values sort last in ascending order, and mixed types never compare directly.
    if value is None:
        return (2, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    return (1, str(value))


def compile_filters(filters: Any, case_sensitive: bool | None = None):
    if not isinstance(filters, dict):
        raise ApiError(422, "filters must be an object", "validation_error")
    if case_sensitive is None:
        case_sensitive = bool(filters.get("case_sensitive", False))
    if "field" in filters and "operator" in filters:
        return _compile_condition(filters, case_sensitive)
    parts = []
    for key, value in filters.items():
        if key == "case_sensitive":
            continue
        if key in _LOGICAL_KEYS:
            if not isinstance(value, list):
                raise ApiError(422, f"{key} must be a list of conditions", "validation_error")
            children = [compile_filters(c, case_sensitive) for c in value]
            if key == "AND":
                parts.append(lambda t, cs=children: all(c(t) for c in cs))
            elif key == "OR":
                parts.append(lambda t, cs=children: any(c(t) for c in cs))
            else:
                parts.append(lambda t, cs=children: not any(c(t) for c in cs))
        else:
            parts.append(_compile_condition(
                {"field": key, "operator": "eq", "value": value}, case_sensitive))
    return lambda t: all(p(t) for p in parts)


def _compile_condition(cond: dict, case_sensitive: bool):
    field_name, op, expected = cond.get("field"), cond.get("operator", "eq"), cond.get("value")
    if not isinstance(field_name, str) or op not in OPERATORS:
        raise ApiError(422, f"invalid filter condition: {cond!r}"[:300], "validation_error")

    def fold(value: Any) -> Any:
        return value.lower() if isinstance(value, str) and not case_sensitive else value

    expected_f = [fold(v) for v in expected] if isinstance(expected, list) else fold(expected)
    if op in ("in", "nin") and isinstance(expected_f, list):
        # A set where the values allow it: a batch of a thousand ids is tested per task.
        with contextlib.suppress(TypeError):
            expected_f = frozenset(expected_f)

    def compare(value: Any) -> bool:
        if op == "exists":
            return (value is not None) == bool(expected)
        if op == "is_null":
            return (value is None) == bool(expected)
        value = fold(value)
        if op == "eq":
            return value == expected_f
        if op == "ne":
            return value != expected_f
        if op == "in":
            return value in expected_f
        if op == "nin":
            return value not in expected_f
        if value is None or expected_f is None:
            return False
        try:
            if op == "gt":
                return value > expected_f
            if op == "gte":
                return value >= expected_f
            if op == "lt":
                return value < expected_f
            if op == "lte":
                return value <= expected_f
        except TypeError:
            return False
        text = str(value)
        if op == "contains":
            return str(expected_f) in text
        if op == "starts_with":
            return text.startswith(str(expected_f))
        if op == "ends_with":
            return text.endswith(str(expected_f))
        return re.search(str(expected), str(value), 0 if case_sensitive else re.I) is not None

    return lambda task: compare(lookup(task, field_name))
