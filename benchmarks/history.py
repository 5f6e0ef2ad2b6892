"""A generated history of nightly observations for `make bench`: one real export, moved on
night by night the way an account does, each night published into a Parquet tree as an
observation read at 02:00 UTC of its day, as exports publish theirs.

The account keeps about as many tasks listed as the export held. Each night:
- NEW_PER_NIGHT tasks are created (copies of the export's tasks with new ids, created after
  every task before them) and as many of the oldest leave the listing;
- the tasks created since the night before are listed in flight (PROCESSING, no completion
  facts yet) and are listed finished, with their template's outcome, from the next night on;
- FALLBACK_SHARE of the other tasks are served as fallback records (from_mongodb, batch keys
  lost), a different few each night, as the API does past its 24-hour TTL.
So a night holds NEW_PER_NIGHT new tasks, about as many status changes, and thinner records,
and every other task is listed again unchanged.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mixpeek_tasks.snapshot.flatten import QUARANTINE_SCHEMA, TASK_SCHEMA
from mixpeek_tasks.snapshot.observation import Observation, mint_id
from mixpeek_tasks.snapshot.parquet_files import QUARANTINE_DATASET, TASKS_DATASET, SnapshotWriter
from mixpeek_tasks.snapshot.tree import SnapshotTree

NEW_PER_NIGHT = 5_000
FALLBACK_SHARE = 0.02
UNFINISHED = ("completed_at", "duration_ms", "error")


def measured_nights(nights: int) -> list[int]:
    """The nights whose load is measured as a Dagster step: 1, 30, 60, 90 of 90."""
    return sorted({1, *(max(1, nights * k // 3) for k in (1, 2, 3))})


def _night(base: pa.Table, night: int, export_date: date) -> pa.Table:
    rows = base.num_rows
    index = np.arange(night * NEW_PER_NIGHT, night * NEW_PER_NIGHT + rows)
    generation = index // rows
    table = base.take(pa.array(index % rows))
    copy = pa.array(generation > 0)
    ids = pc.if_else(copy, pc.binary_join_element_wise(
        pa.array([f"g{g}" for g in generation]), table.column("task_id"), "-"),
        table.column("task_id"))
    created = table.column("created_at")
    span = pc.max(base.column("created_at")).as_py() - pc.min(base.column("created_at")).as_py()
    shift = pa.array(generation * int((span + timedelta(seconds=1)).total_seconds() * 1e6),
                     pa.duration("us"))
    in_flight = pa.array(index >= night * NEW_PER_NIGHT + rows - NEW_PER_NIGHT)
    rng = np.random.default_rng(night)
    fallback = pc.and_(pc.invert(in_flight), pa.array(rng.random(rows) < FALLBACK_SHARE))
    exported_at = datetime.combine(export_date, time(2), timezone.utc)
    changes = {
        "export_date": pa.repeat(pa.scalar(export_date, pa.date32()), rows),
        "exported_at": pa.repeat(pa.scalar(exported_at, TASK_SCHEMA.field("exported_at").type),
                                 rows),
        "task_id": ids,
        "created_at": pc.add(created, shift).cast(TASK_SCHEMA.field("created_at").type),
        "status": pc.if_else(in_flight, "PROCESSING", table.column("status")),
        "from_mongodb": pc.if_else(fallback, True, table.column("from_mongodb")),
        "batch_id": pc.if_else(fallback, pa.scalar(None, pa.string()), table.column("batch_id")),
    }
    for name in UNFINISHED:
        kind = TASK_SCHEMA.field(name).type
        changes[name] = pc.if_else(in_flight, pa.scalar(None, kind), table.column(name))
    return pa.Table.from_arrays([changes.get(field.name, table.column(field.name))
                                 for field in TASK_SCHEMA], schema=TASK_SCHEMA)


def write_night(tree: SnapshotTree, base: pa.Table, night: int, export_date: date) -> None:
    """Publish night number `night` (0 is the export itself) of the account grown from `base`
    (the export, sorted by created_at), as the observation read at 02:00 UTC that day."""
    read_at = datetime.combine(export_date, time(2), timezone.utc)
    observation = Observation.new(mint_id(read_at), read_at, read_at)
    files = []
    for dataset, schema, table in (
            (TASKS_DATASET, TASK_SCHEMA, _night(base, night, export_date)),
            (QUARANTINE_DATASET, QUARANTINE_SCHEMA, QUARANTINE_SCHEMA.empty_table())):
        writer = SnapshotWriter(tree.staging_dir, dataset, observation.id, schema)
        writer.write(table)
        files.append(writer.close())
    tree.publish(observation, *files, coverage=None)


def base_of(template: Path) -> pa.Table:
    """The export the nights grow from, sorted by created_at."""
    return pq.read_table(template).sort_by("created_at")
