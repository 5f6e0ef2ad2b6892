"""The published Parquet tree, as its readers (the warehouse, the checks) see it.

    <root>/tasks/export_date=YYYY-MM-DD/data.parquet            the night's tasks
    <root>/tasks/export_date=YYYY-MM-DD/_coverage.json          how it was listed and reconciled
    <root>/task_quarantine/export_date=YYYY-MM-DD/data.parquet  records that could not be rows

A night is published once its tasks file is there: the export writes the coverage record and
the quarantine file first and the tasks file last, each replaced whole (parquet_files.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from mixpeek_tasks.snapshot.parquet_files import (
    QUARANTINE_DATASET,
    TASKS_DATASET,
    coverage_path,
    partition_path,
)

_PARTITION_PREFIX = "export_date="


@dataclass(frozen=True)
class NightFiles:
    """One published night's files, at paths DuckDB and pyarrow can open."""

    export_date: date
    tasks: Path
    quarantine: Path
    coverage: bytes | None


class SnapshotTree:
    """The Parquet tree under `root`."""

    def __init__(self, root: str | Path):
        self.root = Path(root).absolute()

    def __str__(self) -> str:
        return str(self.root)

    def published_dates(self) -> list[date]:
        """Every night whose snapshot is published, oldest first."""
        nights = []
        for folder in (self.root / TASKS_DATASET).glob(f"{_PARTITION_PREFIX}*"):
            try:
                night = date.fromisoformat(folder.name.removeprefix(_PARTITION_PREFIX))
            except ValueError:
                continue  # not a partition of ours (a tool's own folder)
            if (folder / "data.parquet").exists():
                nights.append(night)
        return sorted(nights)

    def coverage(self, export_date: date) -> bytes | None:
        """The night's coverage record (JSON); None for a night published before exports
        kept one."""
        path = coverage_path(self.root, export_date)
        return path.read_bytes() if path.exists() else None

    @contextlib.contextmanager
    def night(self, export_date: date) -> Iterator[NightFiles]:
        """The published night's files, readable for the duration of the block;
        FileNotFoundError naming the night when it is not published."""
        tasks = partition_path(self.root, TASKS_DATASET, export_date)
        quarantine = partition_path(self.root, QUARANTINE_DATASET, export_date)
        if not tasks.exists() or not quarantine.exists():
            raise FileNotFoundError(f"no published snapshot for {export_date} in {self.root}")
        yield NightFiles(export_date, tasks, quarantine, self.coverage(export_date))

    def glob(self, dataset: str) -> str:
        """Every night's file of `dataset`, as a pattern DuckDB's read_parquet takes."""
        return str(self.root / dataset / f"{_PARTITION_PREFIX}*" / "data.parquet")
