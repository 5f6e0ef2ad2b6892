"""`python -m mixpeek_tasks.reporting.query "SQL"`: ask the warehouse from a shell, read-only,
with nothing installed beyond the project (no duckdb CLI of the right version needed)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from mixpeek_tasks.preflight import PreflightError, warehouse_from_environment
from mixpeek_tasks.reporting.text import text_table
from mixpeek_tasks.warehouse.database import Warehouse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mixpeek_tasks.reporting.query",
        description="Run one read query on the warehouse and print its rows as a table. The"
                    " file is opened read-only, so a load running meanwhile never waits for it,"
                    " and nothing beyond the project is needed (no DuckDB CLI of the file's"
                    " version).",
        epilog="The questions analysts ask, in SQL: docs/sql-cookbook.md; every table, view and"
               " column: docs/data-dictionary.md.")
    parser.add_argument("sql", help="one read query, e.g. \"SELECT * FROM daily_summary\"")
    parser.add_argument("--rows", type=int, default=50, help="rows printed at most (default: 50)")
    parser.add_argument("--warehouse", type=Path, default=None,
                        help="default: $MIXPEEK_WAREHOUSE, else"
                             " $MIXPEEK_EXPORT_DIR/warehouse.duckdb")
    args = parser.parse_args(argv)
    try:
        args.warehouse = args.warehouse or warehouse_from_environment().path
    except PreflightError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not args.warehouse.exists():
        print(f"error: no warehouse at {args.warehouse}: run `make demo` first, or set "
              "MIXPEEK_EXPORT_DIR", file=sys.stderr)
        return 2
    try:
        result = Warehouse(args.warehouse).query(args.sql)
    except duckdb.Error as error:
        print(f"error: {str(error).splitlines()[0]}", file=sys.stderr)
        return 1
    print(text_table(result, limit=args.rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
