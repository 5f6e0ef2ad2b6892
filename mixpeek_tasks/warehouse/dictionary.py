"""Every table and view of the warehouse, column by column: the one source of their
descriptions. Dagster's catalog takes its column schemas from here (assets/catalog.py) and
docs/data-dictionary.md is written from it (`python -m mixpeek_tasks.warehouse.dictionary`);
tests/integration/test_catalog.py checks both against a built warehouse.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from mixpeek_tasks.snapshot.flatten import TASK_SCHEMA

TIMESTAMPTZ = "TIMESTAMP WITH TIME ZONE"
# Where each object is (re)built: `load` with every load (load.py),
# `views` when the analysts' views are built (build_views).
LOAD, VIEWS = "load", "views"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # as DuckDB's duckdb_columns() names it
    description: str


@dataclass(frozen=True)
class WarehouseObject:
    name: str
    kind: str  # "table" or "view"
    built_by: str  # LOAD or VIEWS
    description: str
    columns: tuple[Column, ...]
    notes: str = ""  # markdown shown after the column table


def _columns(*rows: tuple[str, str, str]) -> tuple[Column, ...]:
    return tuple(Column(*row) for row in rows)


_DUCKDB_TYPES = {pa.string(): "VARCHAR", pa.date32(): "DATE", pa.float64(): "DOUBLE",
                 pa.int32(): "INTEGER", pa.int64(): "BIGINT", pa.bool_(): "BOOLEAN",
                 pa.timestamp("us", tz="UTC"): TIMESTAMPTZ,
                 pa.list_(pa.string()): "VARCHAR[]"}
_LIST_JSON = "`{}` as JSON text (`[\"a\",\"b\"]`), for SQL clients that cannot read a list"
# What each field of a snapshot record holds (mixpeek_tasks/snapshot/flatten.py).
_SNAPSHOT_FIELDS = {
    "export_date": "the observation's UTC date (in an earlier tree, a label a caller chose)",
    "exported_at": "when the export read the record's page",
    "task_id": "the task",
    "task_type": "what the task does (`api_buckets_batches_process`, ...)",
    "status": "the status the record reported",
    "error": "the error text",
    "created_at": "when the task was created",
    "updated_at": "when the service last updated the task",
    "started_at": "when the task started (`additional_data.started_at` when not top-level)",
    "completed_at": "when the task finished",
    "duration_ms": "run time in milliseconds, as the service reported it",
    "batch_id": "the batch the task processes",
    "bucket_id": "the batch's bucket",
    "namespace_id": "the namespace of the batch",
    "job_id": "the engine job (Ray) behind the task",
    "current_tier": "the tier being processed, 0-indexed; NULL before the first tier",
    "total_tiers": "tiers of the batch",
    "object_count": "objects in the batch",
    "collection_ids": "collections the batch writes to",
    "sample_object_ids": "a sample of the batch's objects",
    "from_mongodb": "a fallback record: the service read it from MongoDB past its 24-hour "
                    "Redis window, and it may have lost fields",
    "queue_position": "place in the queue of a waiting task",
    "estimated_wait_minutes": "the service's estimate of a waiting task's wait",
    "inputs_json": "the record's `inputs`, as JSON text",
    "outputs_json": "the record's `outputs`, as JSON text",
    "additional_data_json": "the record's `additional_data`, as JSON text",
    "extra_json": "fields the API documents nowhere, as one JSON object",
    "flatten_issues": "values that could not be typed, `field: reason` (the raw value stays "
                      "in the JSON columns)",
}


def _snapshot_columns() -> list[tuple[str, str, str]]:
    """The snapshot's columns but its `export_date`, which the observation's own id and date
    stand for in the warehouse."""
    return [(field.name, _DUCKDB_TYPES[field.type], _SNAPSHOT_FIELDS[field.name])
            for field in TASK_SCHEMA if field.name != "export_date"]


def _list_twins(names: list[str]) -> list[tuple[str, str, str]]:
    return [(f"{name}_json", "VARCHAR", _LIST_JSON.format(name)) for name in names]


_LISTS = [field.name for field in TASK_SCHEMA if pa.types.is_list(field.type)]
_OBSERVATION = [
    ("observation_id", "VARCHAR", "the observation (`2026-12-04T020013Z`: the instant its run "
                                  "started; ids sort as their times)"),
    ("observed_on", "DATE", "its UTC date"),
]
_LISTING = [
    ("listing_started_at", TIMESTAMPTZ, "when its listing read its first page (a resumed "
                                        "listing's first page is its first attempt's)"),
    ("listing_finished_at", TIMESTAMPTZ, "when its listing read its last page"),
]
_LATEST = "from the latest record only"
_OUTCOMES = [
    ("tasks", "BIGINT", "tasks created that {period}"),
    ("terminal", "BIGINT", "of those, in a terminal status"),
    ("completed", "BIGINT", "in COMPLETED"),
    ("completed_with_errors", "BIGINT", "in COMPLETED_WITH_ERRORS"),
    ("failed", "BIGINT", "in FAILED"),
    ("canceled", "BIGINT", "in CANCELED"),
    ("in_flight", "BIGINT", "still PENDING, QUEUED, IN_PROGRESS or PROCESSING"),
    ("other_status", "BIGINT", "SKIPPED, INTERRUPTED or a status never seen before"),
    ("success_rate", "DOUBLE", "completed / terminal (NULL without terminal tasks)"),
    ("partial_success_rate", "DOUBLE", "completed_with_errors / terminal"),
    ("failure_rate", "DOUBLE", "failed / terminal"),
]


def _outcomes(period: str) -> list[tuple[str, str, str]]:
    return [(name, kind, text.format(period=period)) for name, kind, text in _OUTCOMES]


OBJECTS: tuple[WarehouseObject, ...] = (
    WarehouseObject(
        "task_snapshots", "view", VIEWS,
        "Every task of every observation, as the API listed it then: the tree's "
        "`tasks/*/data.parquet` files (`observation=<id>/`, and `export_date=D/` of earlier "
        "trees), read where they are (named by absolute path when the views were built; after "
        "moving the export directory, run `task_analytics` or `make report` once to point the "
        "view at the new place), each joined to its observation by its folder.",
        _columns(*_OBSERVATION, *_snapshot_columns(), *_list_twins(_LISTS)),
    ),
    WarehouseObject(
        "tasks", "table", LOAD,
        "One row per task. `status` is the current status from `task_status_history`; every "
        "other typed column holds the **latest non-empty value any snapshot had**, so a thinner "
        "record never erases a richer fact (a lost `batch_id`, `duration_ms`, `created_at`...).",
        _columns(
            ("task_id", "VARCHAR", "the task"),
            ("task_type", "VARCHAR", _SNAPSHOT_FIELDS["task_type"]),
            ("status", "VARCHAR", "current status, terminal facts kept (see "
                                  "`task_status_regressions`)"),
            ("reported_status", "VARCHAR", "what the latest record said (differs from `status` "
                                           "after a regression)"),
            *[(name, kind, f"{text}: latest non-empty value over all snapshots")
              for name, kind, text in _snapshot_columns()
              if name not in ("exported_at", "task_id", "task_type", "status",
                              "additional_data_json", "queue_position",
                              "estimated_wait_minutes", "from_mongodb", "flatten_issues")],
            ("additional_data_json", "VARCHAR",
             "every record's `additional_data` merged in export order (RFC 7396 merge patch: "
             "later keys win, keys a later record lacks stay, a later explicit null removes a "
             "key, a later non-object replaces the whole value)"),
            ("queue_position", "BIGINT", f"{_SNAPSHOT_FIELDS['queue_position']}, {_LATEST}"),
            ("estimated_wait_minutes", "DOUBLE",
             f"{_SNAPSHOT_FIELDS['estimated_wait_minutes']}, {_LATEST}"),
            ("from_mongodb", "BOOLEAN", f"the latest record is a fallback record, {_LATEST}"),
            ("flatten_issues", "VARCHAR[]", f"{_SNAPSHOT_FIELDS['flatten_issues']}, {_LATEST}"),
            ("first_seen_at", TIMESTAMPTZ, "first time an export read the task"),
            ("last_seen_at", TIMESTAMPTZ, "last time an export read the task"),
            ("first_observation", "VARCHAR", "first observation that listed it"),
            ("last_observation", "VARCHAR", "last observation that listed it"),
            ("last_full_record_observation", "VARCHAR",
             "last observation whose record was not a fallback record (`from_mongodb` not "
             "true): how fresh the rich facts are"),
            ("snapshots", "BIGINT", "observations that listed it"),
            ("record_hash", "BIGINT",
             "63 bits of a hash of the latest record's content (all but `export_date` and "
             "`exported_at`): an observation whose record hashes the same only moves the four "
             "columns above. Two different records sharing a hash (odds about 2^-63 per task "
             "and observation) "
             "would leave the task's facts as they were until its next change; the status "
             "history never reads it"),
            *_list_twins(_LISTS),
        ),
    ),
    WarehouseObject(
        "export_nights", "table", LOAD,
        "One row per observation loaded (two on a day observed twice), counted from its "
        "snapshot at load time.",
        _columns(
            *_OBSERVATION, *_LISTING,
            ("tasks_listed", "BIGINT", "tasks in the observation's snapshot (each task once)"),
            ("fallback_records", "BIGINT", "of those, fallback records (`from_mongodb`)"),
            ("folder", "VARCHAR", "its folder in the tree (`observation=<id>`, or an earlier "
                                  "tree's `export_date=D`)"),
        ),
    ),
    WarehouseObject(
        "batch_observations", "table", LOAD,
        "The tier facts of a batch task's record (a task whose `tasks.batch_id` is known), kept "
        "from the observation they changed in: a row only when they differ from the task's "
        "previous row. `batch_progress` takes, for each observation that saw the task, the row "
        "in force then.",
        _columns(
            ("observation_id", "VARCHAR", "the observation that first reported these facts"),
            ("task_id", "VARCHAR", "the task"),
            ("from_fallback", "BOOLEAN", "the record had lost its batch keys (a fallback "
                                         "record)"),
            ("current_tier", "INTEGER", "as the record reported it"),
            ("total_tiers", "INTEGER", "as the record reported it"),
            ("object_count", "BIGINT", "as the record reported it"),
        ),
    ),
    WarehouseObject(
        "task_quarantine", "table", LOAD,
        "Records that could not be rows, with the reason.",
        _columns(
            *_OBSERVATION,
            ("exported_at", TIMESTAMPTZ, "when the export read it"),
            ("task_id", "VARCHAR", "the record's task_id, if it had a usable one"),
            ("reason", "VARCHAR", "why it could not be a row"),
            ("raw_json", "VARCHAR", "the record as the API sent it"),
        ),
    ),
    WarehouseObject(
        "export_coverage", "table", LOAD,
        "What each observation's snapshot covered and how it was checked against the "
        "service's own counts (`Coverage` in `mixpeek_tasks/snapshot/coverage.py`, also the "
        "asset's `coverage` metadata and the observation's `_coverage.json`). One row per "
        "observation, written in the load's transaction from its `_coverage.json` (one "
        "published without it has no row).",
        _columns(
            ("observation_id", "VARCHAR", "the observation (primary key)"),
            ("strategy", "VARCHAR", "how the export paged (`keyset`, `cursor`, ... : "
                                    "`mixpeek_tasks/api/paging/`)"),
            ("strategy_reason", "VARCHAR", "why it was chosen, and why any strategy tried "
                                           "before it was refused"),
            ("verdict", "VARCHAR", "the reconciliation's verdict (`exact: ...`, "
                                   "`unreconciled: ...`); a snapshot the check refused is "
                                   "never published, so never loaded"),
            ("requests", "BIGINT", "HTTP requests the export sent, probe and counts included"),
            ("created_before", TIMESTAMPTZ, "the cutoff: the export's start less a 10-minute "
                                            "clock margin; tasks created before it must all be "
                                            "listed"),
            ("total_at_start", "BIGINT", "the service's total of tasks when the export "
                                         "started; NULL when it gives none"),
            ("created_before_at_start", "BIGINT", "the service's count of tasks created before "
                                                  "`created_before`, at the start; NULL when "
                                                  "it refused or ignored the filter"),
            ("total_at_end", "BIGINT", "the service's total of tasks when the export ended"),
            ("created_before_at_end", "BIGINT", "the same count as `created_before_at_start`, "
                                                "at the end"),
            ("listed", "BIGINT", "records the export listed (snapshot rows and quarantined "
                                 "records)"),
            ("listed_from_before", "BIGINT", "of those, created before `created_before` (a "
                                             "record without `created_at` counts)"),
            ("oldest_created_at", TIMESTAMPTZ, "the earliest `created_at` in the snapshot; "
                                               "NULL when none has one"),
            ("newest_created_at", TIMESTAMPTZ, "the latest `created_at` in the snapshot"),
            ("from_mongodb_share", "DOUBLE", "share of snapshot rows that are fallback records, "
                                             "0 to 1; NULL for an empty snapshot"),
            ("incremental_from", "VARCHAR", "an incremental observation (`strategy` "
                                            "`incremental`): the observation it builds on, whose "
                                            "tasks it carried where it did not list them; NULL "
                                            "for a listing of every task"),
            ("carried", "BIGINT", "the tasks it carried unchanged from `incremental_from` "
                                  "without listing them (not counted as listed here)"),
            ("gone_task_ids", "VARCHAR[]", "the unfinished tasks it asked for by id that the "
                                           "service no longer has"),
            ("gone_task_ids_json", "VARCHAR", "`gone_task_ids` as JSON text"),
        ),
    ),
    WarehouseObject(
        "task_status_history", "view", LOAD,
        "One row per task per status interval. A load extends it with the new observation's "
        "tasks; one that reaches the tree out of time order rebuilds it from every "
        "observation of the tree. `observed_in` is also where the views learn which "
        "observation listed which task (`daily_summary`'s in-flight counts, "
        "`batch_progress`).",
        _columns(
            ("task_id", "VARCHAR", "the task"),
            ("interval_no", "INTEGER", "1 for the first status seen, then 2, 3, ..."),
            ("status", "VARCHAR", "status during the interval; after the first terminal "
                                  "status, that status (see `task_status_regressions`)"),
            ("valid_from", TIMESTAMPTZ, "when a page first showed the task in this status "
                                        "(its record's `exported_at`)"),
            ("valid_to", TIMESTAMPTZ, "when a page first showed the next status; NULL for the "
                                      "current interval"),
            ("observed_in", "VARCHAR[]", "every observation that saw the task in this status"),
            ("first_observed_at", TIMESTAMPTZ, "when the first of those exports read the task"),
            ("last_observed_at", TIMESTAMPTZ, "when the last of those exports read the task"),
            *_list_twins(["observed_in"]),
        ),
        "The status changed at some moment between the previous interval's `last_observed_at` "
        "and this interval's `first_observed_at`; the exports cannot say more precisely. An "
        "observation that did not list the task does not split an interval.",
    ),
    WarehouseObject(
        "task_status_intervals", "table", LOAD,
        "The table behind `task_status_history`: each interval kept as a span of loaded "
        "observations, so a load changes two fixed-width values per task instead of rewriting "
        "a list.",
        _columns(
            ("task_id", "VARCHAR", "the task"),
            ("interval_no", "INTEGER", "as in `task_status_history`"),
            ("status", "VARCHAR", "as in `task_status_history`"),
            ("valid_from", TIMESTAMPTZ, "as in `task_status_history`"),
            ("valid_to", TIMESTAMPTZ, "as in `task_status_history`"),
            ("first_observed_at", TIMESTAMPTZ, "as in `task_status_history`"),
            ("last_observed_at", TIMESTAMPTZ, "as in `task_status_history`"),
            ("first_observation", "VARCHAR", "the first observation that saw the task in this "
                                             "status"),
            ("last_observation", "VARCHAR", "the last one"),
            ("unlisted_in", "VARCHAR[]", "the loaded observations between those two that did "
                                         "not list the task; NULL when none"),
            *_list_twins(["unlisted_in"]),
        ),
    ),
    WarehouseObject(
        "task_status_regressions", "table", LOAD,
        "Records that reported a task as anything but the terminal status it had already "
        "reached (fallback records past the 24-hour TTL do this). History keeps the first "
        "terminal status; the asset check `terminal_status_never_regresses` warns on the "
        "observations listed here.",
        _columns(
            ("task_id", "VARCHAR", "the task"),
            ("observation_id", "VARCHAR", "the observation whose record said otherwise"),
            ("exported_at", TIMESTAMPTZ, "when it was read"),
            ("reported_status", "VARCHAR", "what the API said"),
            ("kept_status", "VARCHAR", "the first terminal status, which stands"),
            ("terminal_since", TIMESTAMPTZ, "when a page first showed `kept_status`"),
            ("from_mongodb", "BOOLEAN", "the record's `additional_data.from_mongodb`"),
        ),
    ),
    WarehouseObject(
        "task_status_classes", "table", LOAD,
        "Which statuses are terminal, in flight or other, written from "
        "`mixpeek_tasks/api/vocabulary.py` so SQL and Python agree.",
        _columns(
            ("status", "VARCHAR", "a status the API documents"),
            ("status_class", "VARCHAR", "`terminal` (COMPLETED, COMPLETED_WITH_ERRORS, FAILED, "
                                        "CANCELED), `in_flight` (PENDING, QUEUED, IN_PROGRESS, "
                                        "PROCESSING) or `other`"),
        ),
    ),
    WarehouseObject(
        "analytics_settings", "table", VIEWS,
        "One row: the settings the views were built with.",
        _columns(
            ("stuck_after_hours", "DOUBLE",
             "in-flight tasks older than this are stuck; set by `task_analytics`' config "
             "(default 24) or `python -m mixpeek_tasks.reporting.html --stuck-after-hours N`"),
        ),
    ),
    WarehouseObject(
        "task_success_rate", "view", VIEWS,
        "Per `task_type` and `day` (UTC day of `created_at`, else of first sighting), over the "
        "tasks' current status.",
        _columns(("task_type", "VARCHAR", "the task type"), ("day", "DATE", "the UTC day"),
                 *_outcomes("day")),
    ),
    WarehouseObject(
        "task_success_rate_weekly", "view", VIEWS,
        "`task_success_rate` per ISO `week` (starting Monday); rates recomputed from the "
        "week's counts.",
        _columns(("task_type", "VARCHAR", "the task type"),
                 ("week", "DATE", "Monday of the ISO week"), *_outcomes("week")),
    ),
    WarehouseObject(
        "task_durations", "view", VIEWS,
        "One row per task in a terminal status.",
        _columns(
            ("task_id", "VARCHAR", "the task"),
            ("task_type", "VARCHAR", "the task type"),
            ("status", "VARCHAR", "its terminal status"),
            ("duration_source", "VARCHAR",
             "`api_duration` (`duration_ms`), else `api_timestamps` ((`completed_at` or "
             "`updated_at`) - (`started_at` or `created_at`)), else `observed` (first "
             "observation that saw it unfinished to first observation that saw it terminal), "
             "else NULL"),
            ("seconds", "DOUBLE", "the duration from that source"),
            ("error_bar_seconds", "DOUBLE",
             "`observed` only: the span in which it finished (first terminal sighting - last "
             "unfinished sighting)"),
        ),
    ),
    WarehouseObject(
        "task_latency", "view", VIEWS,
        "Per `task_type` and `duration_source` (never mixed), over `task_durations` with "
        "`seconds >= 0` (negative spans mean the record's clocks disagree).",
        _columns(
            ("task_type", "VARCHAR", "the task type"),
            ("duration_source", "VARCHAR", "as in `task_durations`"),
            ("tasks", "BIGINT", "durations in the row"),
            ("p50_seconds", "DOUBLE", "interpolated median"),
            ("p90_seconds", "DOUBLE", "interpolated 90th percentile"),
            ("p99_seconds", "DOUBLE", "interpolated 99th percentile"),
            ("error_bar_seconds", "DOUBLE", "`observed`: the widest `error_bar_seconds` in the "
                                            "row; NULL for API figures"),
        ),
    ),
    WarehouseObject(
        "task_failures", "view", VIEWS,
        "One row per task whose current status is FAILED.",
        _columns(
            ("task_id", "VARCHAR", "the task"),
            ("task_type", "VARCHAR", "the task type"),
            ("error", "VARCHAR", "the error text (latest known)"),
            ("reason", "VARCHAR",
             "`normalize_error(error)`: UUIDs, prefixed ids (`obj_0012`) and hex runs of 8+ "
             "become `<id>`, numbers `<n>`, whitespace collapsed; `(no error message)` when "
             "there is none"),
            ("created_at", TIMESTAMPTZ, "when the task was created"),
            ("failed_seen_on", "DATE", "the UTC date a page first showed the task FAILED"),
            ("job_id", "VARCHAR", "for following up"),
            ("batch_id", "VARCHAR", "for following up"),
        ),
    ),
    WarehouseObject(
        "task_failure_reasons", "view", VIEWS,
        "Per `task_type` and `reason`.",
        _columns(
            ("task_type", "VARCHAR", "the task type"),
            ("reason", "VARCHAR", "as in `task_failures`"),
            ("failures", "BIGINT", "failed tasks with that reason"),
            ("share_of_type_failures", "DOUBLE", "failures / all failures of the task type"),
            ("rank", "BIGINT", "1 = the type's most frequent reason (ties by reason)"),
            ("example_error", "VARCHAR", "one original message"),
            ("first_seen_on", "DATE", "earliest `failed_seen_on`"),
            ("last_seen_on", "DATE", "latest `failed_seen_on`"),
        ),
    ),
    WarehouseObject(
        "export_runs", "view", VIEWS,
        "Per observation: when its listing read its first and last page.",
        _columns(*_OBSERVATION, *_LISTING),
    ),
    WarehouseObject(
        "tasks_gone", "view", VIEWS,
        "The tasks the service no longer lists, kept in the history: when an observation last "
        "listed each, and the first observation after it that shows it gone: a listing of every "
        "task without it, or an incremental one whose read by id found it missing. Not being in "
        "an incremental observation says nothing: it carries the tasks it does not read.",
        _columns(
            ("task_id", "VARCHAR", "the task"),
            ("status", "VARCHAR", "its status as `tasks` holds it"),
            ("last_listed_in", "VARCHAR", "the observation that last listed it"),
            ("last_listed_at", TIMESTAMPTZ, "when that observation's page read it"),
            ("gone_since", "VARCHAR", "the first observation after it that shows it gone"),
        ),
    ),
    WarehouseObject(
        "stuck_tasks", "view", VIEWS,
        "In-flight tasks (PENDING, QUEUED, IN_PROGRESS, PROCESSING) whose age at the latest "
        "export exceeds `analytics_settings.stuck_after_hours`. SKIPPED, INTERRUPTED and other "
        "statuses are not listed: nothing is supposed to be running for them.",
        _columns(
            ("task_id", "VARCHAR", "the task"),
            ("task_type", "VARCHAR", "the task type"),
            ("status", "VARCHAR", "its in-flight status"),
            ("age_hours", "DOUBLE", "`as_of` - (`created_at`, else first sighting)"),
            ("status_since", TIMESTAMPTZ, "when a page first showed the current status "
                                          "(`valid_from`)"),
            ("current_tier", "INTEGER", "0-indexed, NULL before the first tier"),
            ("total_tiers", "INTEGER", "tiers of the batch"),
            ("tier_progress", "VARCHAR", "`tier k of n` (k = current_tier + 1), `not started`, "
                                         "or NULL without tiers"),
            ("object_count", "BIGINT", "objects in the batch"),
            ("batch_id", "VARCHAR", "the batch"),
            ("created_at", TIMESTAMPTZ, "when the task was created"),
            ("first_seen_at", TIMESTAMPTZ, "first time an export read it"),
            ("as_of", TIMESTAMPTZ, "the reference time: the latest observation's "
                                   "`listing_finished_at`"),
        ),
    ),
    WarehouseObject(
        "batch_progress", "view", VIEWS,
        "Per `batch_id` and observation (tasks with a known `batch_id`).",
        _columns(
            ("batch_id", "VARCHAR", "the batch"),
            ("observation_id", "VARCHAR", "an observation that listed the batch's task"),
            ("task_id", "VARCHAR", "the batch's task then (the most recently created, if the "
                                   "batch ran more than once)"),
            ("tasks", "BIGINT", "tasks of the batch the observation listed"),
            ("status", "VARCHAR", "the status then, terminal facts kept"),
            ("current_tier", "INTEGER", "the value then; a fallback record that lost its batch "
                                        "keys shows the task's last known values"),
            ("total_tiers", "INTEGER", "likewise"),
            ("tiers_done", "INTEGER", "`total_tiers` once COMPLETED or COMPLETED_WITH_ERRORS, "
                                      "else `current_tier` (0 before the first tier)"),
            ("object_count", "BIGINT", "likewise"),
            ("from_fallback", "BOOLEAN", "the record then had lost its batch keys"),
        ),
    ),
    WarehouseObject(
        "daily_summary", "view", VIEWS,
        "One row per observation (two on a day observed twice: the name is kept for "
        "dashboards).",
        _columns(
            *_OBSERVATION, *_LISTING,
            ("tasks_listed", "BIGINT", "tasks in the observation's snapshot"),
            ("new_tasks", "BIGINT", "tasks listed for the first time"),
            ("finished", "BIGINT", "tasks first seen terminal in it (in the first observation "
                                   "this includes the whole backlog)"),
            ("completed", "BIGINT", "of `finished`, COMPLETED"),
            ("completed_with_errors", "BIGINT", "of `finished`, COMPLETED_WITH_ERRORS"),
            ("failed", "BIGINT", "of `finished`, FAILED"),
            ("canceled", "BIGINT", "of `finished`, CANCELED"),
            ("success_rate", "DOUBLE", "completed / finished"),
            ("failure_rate", "DOUBLE", "failed / finished"),
            ("in_flight", "BIGINT", "listed in an in-flight status"),
            ("stuck", "BIGINT", "of those, older than `stuck_after_hours` at its "
                                "`listing_finished_at`"),
            ("fallback_records", "BIGINT", "records with `from_mongodb` true"),
            ("status_regressions", "BIGINT", "its rows of `task_status_regressions`"),
            ("quarantined", "BIGINT", "its rows of `task_quarantine`"),
        ),
    ),
)

_INTRO = """# Data dictionary

<!-- Written by `python -m mixpeek_tasks.warehouse.dictionary` from
mixpeek_tasks/warehouse/dictionary.py: edit that file, not this one. -->

Every table and view in `warehouse.duckdb`, column by column, as Dagster's catalog shows them
(one asset per object, downstream of `warehouse_tasks` or `task_analytics`). Times are
`TIMESTAMP WITH TIME ZONE` in UTC; an *observation* is one listing of the whole account at the
moment it ran, known by its id (`2026-12-04T020013Z`, the instant its run started; ids sort as
their times), its UTC date `observed_on` and when its listing read its first and last page
(docs/guide.md, Observations). Every time below is one of those read times, never a date a caller
chose. Every type is one a BI driver reads: no unsigned or 128-bit integers, and each list
column (`VARCHAR[]`) has a `<name>_json` twin holding it as JSON text for SQL clients without
lists ([bi-tools.md](bi-tools.md)). The snapshots stay in the Parquet tree
(`parquet/tasks/observation=<id>/data.parquet`), read in place by the view `task_snapshots`;
the file holds what is derived from them.

SQL lives in `mixpeek_tasks/warehouse/sql/`, each file on bound parameters only: `schema/`
creates every table, `load/` holds an observation's load as numbered steps, each writing the
tables its name says (declared in order in `LOAD_STEPS`, `mixpeek_tasks/warehouse/load.py`),
and `views/` one file per analysts' object. An observation newer than every loaded one is
appended: `schema/tables.sql` in a transaction of its own (the tables, empty, the first time),
then in one transaction `schema/task_status_classes.sql` and the steps `load/01_night.sql`
(the observation's file read once, narrow, each record hashed), `02_history_append.sql` (the
status intervals and regressions), `03_tasks_seen_again.sql` (records unchanged since the
last observation), `04_tasks_new.sql` (tasks never seen), `05_night_changed.sql` (the changed
records), `06_tasks_merge.sql` per bucket of the changed task_ids, `07_task_quarantine.sql`,
`08_export_nights.sql`, `09_batch_observations.sql`, and `10_export_coverage.sql` (its table
from `schema/export_coverage.sql`) when the observation has a coverage record. One that
reaches the tree out of time order rebuilds: every observation of the tree appended in time
order into a fresh file, which replaces the old one once complete. *Load* objects below change
with every load; *views* objects are rebuilt when `task_analytics` materializes (or `make
report`), each after the files its `-- depends on:` line names.
"""

_OUTRO = """## Macro

`normalize_error(message)`: the normalisation behind `task_failures.reason`, usable in ad-hoc
queries.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    """docs/data-dictionary.md."""
    parts = [_INTRO]
    for obj in OBJECTS:
        built = "changed by every load" if obj.built_by == LOAD else "built with the views"
        parts.append(f"## `{obj.name}`\n\n*{obj.kind}, {built}.* {obj.description}\n\n"
                     "| column | type | meaning |\n|---|---|---|\n"
                     + "".join(f"| `{c.name}` | {c.type} | {_cell(c.description)} |\n"
                               for c in obj.columns)
                     + (f"\n{obj.notes}\n" if obj.notes else ""))
    parts.append(_OUTRO)
    return "\n".join(parts)


DOC = Path(__file__).parents[2] / "docs" / "data-dictionary.md"

if __name__ == "__main__":
    (Path(sys.argv[1]) if len(sys.argv) > 1 else DOC).write_text(render())
