"""The analysts' objects: `task_snapshots` over the Parquet tree, then one object per file of
sql/views/ (documented column by column in docs/data-dictionary.md), named as its file.

A file that reads another object of sql/views/ says so in a line `-- depends on: a, b`; the
files are created in the order those lines give (the tables of sql/schema/ exist before any
view, and need no line).
"""

from __future__ import annotations

import logging
import re
from graphlib import CycleError, TopologicalSorter
from importlib import resources

import duckdb
import pyarrow as pa

from mixpeek_tasks.snapshot.flatten import TASK_SCHEMA
from mixpeek_tasks.snapshot.parquet_files import TASKS_DATASET
from mixpeek_tasks.snapshot.tree import SnapshotTree
from mixpeek_tasks.warehouse.connection import SQL_PACKAGE, run_sql, table_exists
from mixpeek_tasks.warehouse.schema import write_status_classes

log = logging.getLogger(__name__)
# Mixpeek keeps hot task state for 24 hours: work still running after a day is worth a look.
DEFAULT_STUCK_AFTER_HOURS = 24.0
VIEWS_FOLDER = "views"
_DEPENDS_ON = re.compile(r"^--\s*depends on:(.*)$", re.MULTILINE)


# Each list column of the snapshots again as JSON text, `<name>_json`, for SQL clients that
# cannot read a list (an ODBC driver, a BI tool): JSON keeps items that hold commas, and
# every such tool parses it. `tasks` stores the same columns (schema/tables.sql).
_LISTS_AS_JSON = ", ".join(
    f'CAST(to_json("{field.name}") AS VARCHAR) AS "{field.name}_json"'
    for field in TASK_SCHEMA if pa.types.is_list(field.type))


class ViewOrderError(ValueError):
    """The views' `depends on` lines name a missing file or go round in a cycle."""


def view_files() -> dict[str, str]:
    """Each file of sql/views/ by the name of the object it creates."""
    folder = resources.files(SQL_PACKAGE).joinpath("sql", VIEWS_FOLDER)
    return {entry.name.removesuffix(".sql"): entry.read_text() for entry in folder.iterdir()
            if entry.name.endswith(".sql")}


def depends_on(sql: str) -> set[str]:
    """The names a file's `-- depends on:` lines list."""
    return {name.strip() for line in _DEPENDS_ON.findall(sql) for name in line.split(",")
            if name.strip()}


def creation_order(files: dict[str, str]) -> list[str]:
    """The names of `files` (name -> SQL), each after every name it depends on; among those
    free to go, alphabetical, so the order is the same on every run."""
    needs = {name: depends_on(sql) for name, sql in files.items()}
    for name, names in sorted(needs.items()):
        missing = sorted(names - needs.keys())
        if missing:
            raise ViewOrderError(f"{VIEWS_FOLDER}/{name}.sql depends on {', '.join(missing)},"
                                 f" which no file in {VIEWS_FOLDER}/ creates")
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for name in sorted(needs):
        sorter.add(name, *sorted(needs[name]))
    try:
        sorter.prepare()
    except CycleError as cycle:
        raise ViewOrderError(f"the files of {VIEWS_FOLDER}/ depend on each other in a cycle: "
                             + " -> ".join(cycle.args[1])) from None
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(ready)
        sorter.done(*ready)
    return order


def build_views(con: duckdb.DuckDBPyConnection, tree: SnapshotTree,
                stuck_after_hours: float, *, published: bool) -> None:
    """(Re)create every analysts' object on `con`; in-flight tasks older than
    `stuck_after_hours` are reported as stuck."""
    write_status_classes(con)
    _create_task_snapshots(con, tree, published=published)
    for name in creation_order(view_files()):
        run_sql(con, f"{VIEWS_FOLDER}/{name}.sql", {"stuck_after_hours": stuck_after_hours})


def stored_stuck_after_hours(con: duckdb.DuckDBPyConnection) -> float:
    """The stuck threshold the views were last built with (the report may have set it)."""
    if not table_exists(con, "analytics_settings"):
        return DEFAULT_STUCK_AFTER_HOURS
    return con.execute("SELECT stuck_after_hours FROM analytics_settings").fetchone()[0]


def _create_task_snapshots(con: duckdb.DuckDBPyConnection, tree: SnapshotTree, *,
                           published: bool) -> None:
    """Made here, not from a file: it names the Parquet tree, which a view cannot take as a
    parameter."""
    if tree.is_local and published:
        # The tree by its absolute path, so the file opened from any folder finds it; each
        # row with its observation, by the folder its file is in (a file's export_date
        # column, in an earlier tree a caller's label, is left out).
        con.execute(
            "CREATE OR REPLACE VIEW task_snapshots AS SELECT n.observation_id, n.observed_on,"
            f" s.* EXCLUDE (export_date, filename), {_LISTS_AS_JSON} FROM read_parquet("
            f"{_sql_string(tree.glob(TASKS_DATASET))}, union_by_name = true,"
            " hive_partitioning = false, filename = true) AS s JOIN export_nights AS n"
            " ON n.folder = regexp_extract(s.filename, '([^/\\\\]+)[/\\\\][^/\\\\]+$', 1)")
    elif tree.is_local:
        # A view over no files cannot be made; one made before (the tree since moved) stays.
        log.warning("no observation is published in %s: task_snapshots is left as it was",
                    tree)
    else:
        # DuckDB binds a view when it is created, and reads s3:// only through its httpfs
        # extension, which an exporter need not have: every other view reads the derived
        # tables, and the snapshots are read from the tree itself (docs/guide.md, Object storage).
        log.info("no task_snapshots view: the snapshots are in %s, read them there", tree)


def _sql_string(value: str) -> str:
    """`value` as a SQL string literal (for DDL, which takes no bound parameters)."""
    return "'" + value.replace("'", "''") + "'"
