"""Issue 13, "decode less": can msgspec, decoding a page's bytes straight into typed fields and
raw JSON slices, beat orjson + `flatten_tasks`? Measured here: it did not, so it was not kept.

    pip install msgspec  # not a dependency of the project: the path below was not kept
    python benchmarks/decode.py [--tasks 100000] [--runs 5]

100,000 emulator tasks (`TaskStore.generate(n, seed=1)`) are paged in 1,000s as JSON bytes the
way the emulator serves them. Timed, interleaved, medians of `--runs` runs, garbage collector on
as in an export, each variant over every page, one page at a time:

- orjson decode only;
- reference: orjson decode + `flatten_tasks`;
- fast: orjson decode (the paging strategies need the records as dicts) + the msgspec path:
  the page decoded again by msgspec into structs whose fields are the columns' values (only in
  the JSON types orjson decodes to the same value) and `msgspec.Raw` slices for `inputs`,
  `outputs` and `additional_data`; the values typed by flatten's own `_typed`; a slice used as
  the JSON text once the decoded values are shown to encode to exactly those bytes; a page it
  cannot build exactly goes to `flatten_tasks`;
- fast, typed fields only: the same without the raw slices (the JSON texts as the reference
  encodes them), the leanest use of msgspec;
- the flattening alone (records decoded beforehand) for the reference and both fast paths.

Before timing, every page's tables from each fast path are checked byte for byte (Arrow IPC)
against the reference's, and that no page fell back to it.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timezone
from itertools import accumulate, compress
from operator import attrgetter, itemgetter
from typing import Annotated

import orjson
import pyarrow as pa

from mixpeek_emulator.store import TaskStore
from mixpeek_tasks.api.vocabulary import DECLARED_TASK_FIELDS
from mixpeek_tasks.snapshot.flatten import (
    COLUMNS,
    INT64_MAX,
    JSON_COLUMNS,
    QUARANTINE_SCHEMA,
    TASK_SCHEMA,
    UTC_TIMESTAMP,
    Column,
    FlatPage,
    _json_texts,
    _repeat,
    _typed,
    flatten_tasks,
)

try:
    import msgspec
except ImportError:
    sys.exit("benchmarks/decode.py needs msgspec: pip install msgspec")

EXPORT_DATE = date(2026, 11, 23)
EXPORTED_AT = datetime(2026, 11, 23, 2, tzinfo=timezone.utc)
PAGE_SIZE = 1000

_Whole = Annotated[int, msgspec.Meta(ge=-(2**63), le=INT64_MAX)]
_NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]
# Per column type, the JSON types whose msgspec value is the value orjson decodes.
_JSON_TYPES = {
    pa.string(): str | None,
    UTC_TIMESTAMP: str | None,
    pa.float64(): _Whole | float | None,
    pa.int32(): _Whole | None,
    pa.int64(): _Whole | None,
    pa.list_(pa.string()): list[str] | None,
    pa.bool_(): bool | None,
}
_NULL = msgspec.Raw(b"null")
_SUB_DOCUMENTS = ("inputs", "outputs", "additional_data")
_HEAD = [("task_id", _NonEmpty), ("task_type", _NonEmpty), ("status", _NonEmpty),
         *((column.name, _JSON_TYPES[column.type], None)
           for column in COLUMNS if column.top_level)]
_Data = msgspec.defstruct("_Data", [(column.name, _JSON_TYPES[column.type], None)
                                    for column in COLUMNS if column.in_additional_data],
                          gc=False)
_RawTask = msgspec.defstruct(
    "_RawTask", [*_HEAD, *((key, msgspec.Raw, _NULL) for key in _SUB_DOCUMENTS)],
    kw_only=True, gc=False)
_TypedTask = msgspec.defstruct(
    "_TypedTask", [*_HEAD, ("additional_data", _Data | None, None)], kw_only=True, gc=False)
_RAW_PAGE = msgspec.json.Decoder(
    msgspec.defstruct("_RawPage", [("results", list[_RawTask])], gc=False))
_TYPED_PAGE = msgspec.json.Decoder(
    msgspec.defstruct("_TypedPage", [("results", list[_TypedTask])], gc=False))
_DATA_LIST = msgspec.json.Decoder(list[_Data | None])
_NO_DATA = _Data()


def _values(column: Column, tasks: list, nested: list) -> list:
    """flatten's `_raw_values`, read from structs: top level first, else in additional_data."""
    read = attrgetter(column.name)
    if not column.in_additional_data:
        return list(map(read, tasks))
    if not column.top_level:
        return list(map(read, nested))
    top = list(map(read, tasks))
    if top.count(None) == 0:
        return top
    below = list(map(read, nested))
    if below.count(None) == len(below):
        return top
    return [value if value is not None else fallback for value, fallback in zip(top, below)]


def _texts_from_slices(slices: list, values: list) -> pa.Array:
    """The JSON text column of `values`, cut from the page's slices where they are byte for
    byte what `_json_texts` encodes (one orjson.dumps of the whole column shows it)."""
    try:
        encoded = orjson.dumps(values)
    except TypeError:
        return _json_texts(values)
    if encoded != b"[" + b",".join(slices) + b"]":
        return _json_texts(values)
    present = [value is not None for value in values]
    lengths = [len(piece) if kept else 0 for piece, kept in zip(slices, present)]
    offsets = pa.array(list(accumulate(lengths, initial=0)), pa.int32())
    nulls = present.count(False)
    validity = pa.array(present, pa.bool_()).buffers()[1] if nulls else None
    return pa.StringArray.from_buffers(len(values), offsets.buffers()[1],
                                       pa.py_buffer(b"".join(compress(slices, present))),
                                       validity, nulls)


def _extras_texts(records: list) -> pa.Array:
    """`extra_json`: each record's undeclared fields in its own key order, per key layout."""
    layouts = list(map(tuple, records))
    undeclared = {layout: tuple(key for key in layout if key not in DECLARED_TASK_FIELDS)
                  for layout in set(layouts)}
    return _json_texts([{key: record[key] for key in keys} if (keys := undeclared[layout])
                        else None for record, layout in zip(records, layouts)])


def _table(tasks: list, nested: list, texts: dict[str, pa.Array], records: list) -> FlatPage:
    count = len(tasks)
    columns: dict[str, pa.Array] = {
        "export_date": _repeat(EXPORT_DATE, pa.date32(), count),
        "exported_at": _repeat(EXPORTED_AT, UTC_TIMESTAMP, count),
    }
    for name in ("task_id", "task_type", "status"):
        columns[name] = pa.array(list(map(attrgetter(name), tasks)), pa.string())
    issues: dict[int, list[str]] = {}
    for column in COLUMNS:
        columns[column.name], problems = _typed(column, _values(column, tasks, nested))
        for row, problem in problems:
            issues.setdefault(row, []).append(problem)
    columns.update(texts)
    columns["extra_json"] = _extras_texts(records)
    columns["flatten_issues"] = pa.array([issues.get(row) for row in range(count)],
                                         pa.list_(pa.string()))
    empty: dict[str, list] = {"task_id": [], "reason": [], "raw_json": [], "export_date": [],
                              "exported_at": []}
    return FlatPage(
        pa.Table.from_arrays([columns[field.name] for field in TASK_SCHEMA], schema=TASK_SCHEMA),
        pa.Table.from_pydict(empty, schema=QUARANTINE_SCHEMA),
    )


def _same_tasks(tasks: list, records: list) -> bool:
    """The structs are the records (same count, same task_ids) and every one is a task row."""
    try:
        ids = list(map(itemgetter("task_id"), records))
    except (KeyError, TypeError):
        return False
    return (0 < len(tasks) == len(ids) and list(map(attrgetter("task_id"), tasks)) == ids
            and len(set(ids)) == len(ids))


def fast_flatten(records: list, content: bytes) -> FlatPage | None:
    """The msgspec path with raw sub-documents; None where it cannot match flatten_tasks."""
    try:
        tasks = _RAW_PAGE.decode(content).results
        nested = _DATA_LIST.decode(
            b"[" + b",".join(map(attrgetter("additional_data"), tasks)) + b"]")
    except (msgspec.DecodeError, RecursionError):
        return None
    if not _same_tasks(tasks, records):
        return None
    texts = {name: _texts_from_slices(list(map(attrgetter(key), tasks)),
                                      [record.get(key) for record in records])
             for name, key in zip(JSON_COLUMNS, _SUB_DOCUMENTS)}
    nested = [_NO_DATA if data is None else data for data in nested]
    return _table(tasks, nested, texts, records)


def typed_flatten(records: list, content: bytes) -> FlatPage | None:
    """The msgspec path for the typed fields only; the JSON texts as the reference makes them."""
    try:
        tasks = _TYPED_PAGE.decode(content).results
    except (msgspec.DecodeError, RecursionError):
        return None
    if not _same_tasks(tasks, records):
        return None
    texts = {name: _json_texts([record.get(key) for record in records])
             for name, key in zip(JSON_COLUMNS, _SUB_DOCUMENTS)}
    nested = [_NO_DATA if data is None else data
              for data in map(attrgetter("additional_data"), tasks)]
    return _table(tasks, nested, texts, records)


def pages_of(tasks: int) -> list[bytes]:
    store = TaskStore.generate(tasks, seed=1)
    ids = sorted(store.tasks)
    return [b'{"results":[' + b",".join(store._encoded[i] for i in ids[start:start + PAGE_SIZE])
            + b'],"pagination":{}}' for start in range(0, len(ids), PAGE_SIZE)]


def _ipc(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def check(pages: list[bytes], fast: Callable[[list, bytes], FlatPage | None]) -> None:
    for number, content in enumerate(pages):
        records = orjson.loads(content)["results"]
        flat = fast(records, content)
        if flat is None:
            raise SystemExit(f"{fast.__name__} fell back on page {number}")
        reference = flatten_tasks(records, EXPORT_DATE, EXPORTED_AT)
        for mine, theirs in ((flat.tasks, reference.tasks),
                             (flat.quarantine, reference.quarantine)):
            if _ipc(mine) != _ipc(theirs):
                raise SystemExit(f"{fast.__name__} differs from flatten_tasks on page {number}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    pages = pages_of(args.tasks)
    for fast in (fast_flatten, typed_flatten):
        check(pages, fast)
    decoded = [orjson.loads(content)["results"] for content in pages]

    def over_pages(step: Callable[[bytes], object]) -> Callable[[], None]:
        def run() -> None:
            for content in pages:
                step(content)
        return run

    def over_records(step: Callable[[list, bytes], object]) -> Callable[[], None]:
        def run() -> None:
            for records, content in zip(decoded, pages):
                step(records, content)
        return run

    def with_fallback(fast: Callable[[list, bytes], FlatPage | None]):
        def run(records: list, content: bytes) -> FlatPage:
            return (fast(records, content)
                    or flatten_tasks(records, EXPORT_DATE, EXPORTED_AT))
        return run

    def reference(records: list, content: bytes) -> FlatPage:
        return flatten_tasks(records, EXPORT_DATE, EXPORTED_AT)

    variants = {
        "orjson decode only": over_pages(orjson.loads),
        "reference: orjson decode + flatten_tasks": over_pages(
            lambda content: reference(orjson.loads(content)["results"], content)),
        "fast: orjson decode + msgspec, raw sub-documents": over_pages(
            lambda content: with_fallback(fast_flatten)(orjson.loads(content)["results"],
                                                        content)),
        "fast: orjson decode + msgspec, typed fields only": over_pages(
            lambda content: with_fallback(typed_flatten)(orjson.loads(content)["results"],
                                                         content)),
        "flatten alone: flatten_tasks": over_records(reference),
        "flatten alone: msgspec, raw sub-documents": over_records(with_fallback(fast_flatten)),
        "flatten alone: msgspec, typed fields only": over_records(with_fallback(typed_flatten)),
    }
    pa.array(["warm"], pa.string())  # pyarrow's first conversion imports pandas, once
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.runs):
        for name, run in variants.items():
            started = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - started)
    size = sum(map(len, pages))
    print(f"{args.tasks:,} tasks in {len(pages)} pages of {PAGE_SIZE:,} ({size / 1e6:.1f} MB of "
          f"JSON); python {sys.version.split()[0]}, orjson {orjson.__version__}, msgspec "
          f"{msgspec.__version__}, pyarrow {pa.__version__}")
    print("both fast paths: every page byte-identical to flatten_tasks (Arrow IPC), none fell "
          "back")
    base = statistics.median(seconds["reference: orjson decode + flatten_tasks"])
    print(f"{'variant, median of ' + str(args.runs) + ' runs':52s} {'seconds':>8s} "
          f"{'tasks/s':>10s} {'x reference':>12s}")
    for name, runs in seconds.items():
        middle = statistics.median(runs)
        print(f"{name:52s} {middle:8.3f} {args.tasks / middle:10,.0f} {base / middle:12.2f}")


if __name__ == "__main__":
    main()
