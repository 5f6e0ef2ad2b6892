"""A DuckDB connection to one of the warehouse's files: opened, tuned for a load, and used to
run the packaged SQL files and read query results."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from mixpeek_tasks.sql_files import sql_statements

# A load step holds about 165 MB once dagster, pyarrow, duckdb and pandas are imported: 64 MB
# for DuckDB keeps the step near 250 MB (it spills to `<warehouse>.tmp/` past that).
DEFAULT_MEMORY_LIMIT = "64MB"
_PARAMETER = re.compile(r"\$([a-z_]+)")
SQL_PACKAGE = "mixpeek_tasks.warehouse"


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple]


def connect(path: Path, *, read_only: bool, wait_seconds: float,
            memory_limit: str | None = None, spill_dir: Path | None = None
            ) -> duckdb.DuckDBPyConnection:
    """Open a database file, waiting up to `wait_seconds` while a process outside our lock
    holds it; a writer gets `memory_limit` and spills to `spill_dir` past it."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as error:
            if "lock" not in str(error).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.5)
            continue
        con.execute("SET TimeZone = 'UTC'")
        if memory_limit and not read_only:
            # DuckDB's default (80% of RAM) keeps a nightly load's buffers; a cap makes the
            # merge spill to disk beside the database instead. One thread holds half the
            # buffers of two, and the load needs no insertion order (it orders by keys).
            con.execute("SET memory_limit = $limit", {"limit": memory_limit})
            con.execute("SET temp_directory = $dir", {"dir": str(spill_dir)})
            con.execute("SET threads = 1")
            con.execute("SET preserve_insertion_order = false")
        return con


@contextlib.contextmanager
def atomically(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """The block as one transaction: committed whole, or rolled back whatever it raised."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def run_sql(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> None:
    """Run each statement of `sql/<name>`, bound to the `params` it names (`$name`); DuckDB
    refuses a parameter a statement does not use, so each gets only its own."""
    for statement in sql_statements(SQL_PACKAGE, name):
        used = {key: params[key] for key in _PARAMETER.findall(statement)}
        con.execute(statement, used or None)


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = $name",
                            {"name": name}).fetchone()[0])


def query(con: duckdb.DuckDBPyConnection, sql: str,
          params: dict | list | None = None) -> QueryResult:
    cursor = con.execute(sql, params)
    return QueryResult([d[0] for d in cursor.description], cursor.fetchall())
