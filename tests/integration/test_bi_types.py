"""What a BI tool sees of the warehouse: types every driver reads, lists also as JSON text, and
Apache Superset's own path (duckdb-engine under SQLAlchemy 1.4, 2.0 and 2.1) through every
table and view of a built warehouse."""

import json
import subprocess
from pathlib import Path

import duckdb
import pytest

from tests.support.venvs import venv_python

SUPERSET_PATH = Path(__file__).parents[1] / "support" / "superset_path.py"
# Types a BI driver cannot take: Python's DB-API hands unsigned 64-bit and 128-bit integers
# to drivers as ints past a C long ("Python int too large to convert to C long" in Superset),
# and a naive timestamp leaves the reader to guess its zone.
UNSAFE_TYPES = ("UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", "HUGEINT",
                "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIME")


def _columns(warehouse):
    return warehouse.query(
        "SELECT table_name, column_name, data_type FROM duckdb_columns()"
        " WHERE NOT internal AND database_name = current_database()"
        " ORDER BY table_name, column_index").rows


def test_every_column_has_a_type_bi_drivers_read(history):
    columns = _columns(history.warehouse)
    assert len({table for table, _, _ in columns}) >= 20
    unsafe = [(table, column, kind) for table, column, kind in columns
              if kind.split("(")[0].split("[")[0] in UNSAFE_TYPES]
    assert unsafe == []


def test_every_list_is_also_json_text(history):
    columns = {(table, column): kind for table, column, kind in _columns(history.warehouse)}
    lists = [(table, column) for (table, column), kind in columns.items() if kind.endswith("[]")]
    assert ("tasks", "collection_ids") in lists and ("task_status_history", "observed_in") in lists
    for table, column in lists:
        assert columns.get((table, f"{column}_json")) == "VARCHAR", (table, column)
        # Equal wherever a list is, and NULL where it is NULL: the same facts, as text.
        differing, filled = history.warehouse.query(
            f'SELECT count(*) FILTER (WHERE CAST(to_json("{column}") AS VARCHAR)'
            f' IS DISTINCT FROM "{column}_json"), count("{column}") FROM "{table}"').rows[0]
        assert differing == 0, (table, column)
    filled = history.warehouse.query(
        "SELECT count(collection_ids_json) FROM tasks WHERE collection_ids_json LIKE '[\"%'")
    assert filled.rows[0][0] > 0


def test_record_hash_still_tells_changed_records_apart(history):
    """The 63-bit hash is signed and positive, and distinct tasks' records rarely share one."""
    low, high, distinct, rows = history.warehouse.query(
        "SELECT min(record_hash), max(record_hash), count(DISTINCT record_hash), count(*)"
        " FROM tasks").rows[0]
    assert 0 <= low and high < 2 ** 63 and high > 2 ** 61
    assert distinct == rows


# (label, pip requirements): Superset 6.1 pins `sqlalchemy>=1.4, <2` and, for DuckDB,
# `duckdb-engine>=0.12.1, <0.13` with `pyarrow>=18.1.0, <19`; the others are what a newer
# stack installs.
STACKS = {
    "superset-6.1": ["sqlalchemy>=1.4,<2", "duckdb-engine>=0.12.1,<0.13", "pyarrow>=18.1,<19"],
    "sqlalchemy-1.4": ["sqlalchemy>=1.4,<2", "duckdb-engine", "pyarrow"],
    "sqlalchemy-2.0": ["sqlalchemy>=2.0,<2.1", "duckdb-engine", "pyarrow"],
    "sqlalchemy-2.1": ["sqlalchemy>=2.1,<2.2", "duckdb-engine", "pyarrow"],
}
# Failures of duckdb-engine (0.17) against DuckDB 2.0 under SQLAlchemy 2.x, whatever the
# database holds (docs/bi-tools.md): SQLAlchemy 2.0's key and constraint reflection casts
# to REGCLASS, a type DuckDB 2.0's pg_catalog no longer has, and 2.1's column reflection adds
# a pg_collation subquery its binder refuses. Anything else fails the test.
UPSTREAM_FAILURES = {
    "sqlalchemy-2.0": {"get_pk_constraint": "REGCLASS", "get_foreign_keys": "REGCLASS"},
    "sqlalchemy-2.1": {"get_pk_constraint": "REGCLASS", "get_foreign_keys": "REGCLASS",
                       "get_columns": "pg_collation"},
}


@pytest.mark.parametrize("stack", list(STACKS))
def test_superset_reads_every_table_and_view(history, stack):
    python = venv_python([*STACKS[stack], f"duckdb=={duckdb.__version__}"])
    ran = subprocess.run([str(python), str(SUPERSET_PATH), str(history.warehouse.path)],
                         capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr
    objects = json.loads(ran.stdout)["objects"]
    columns = {(table, column): kind for table, column, kind in _columns(history.warehouse)}
    assert set(objects) == {table for table, _ in columns}
    known = UPSTREAM_FAILURES.get(stack, {})
    for name, found in objects.items():
        # Every object's rows come back whole and become Arrow arrays.
        rows = history.warehouse.query(f'SELECT count(*) FROM "{name}"').rows[0][0]
        assert found["rows"] == rows, (name, found["errors"])
        for error in found["errors"]:
            reflection, message = error.split(": ", 1)
            assert known.get(reflection, "\0") in message, (name, error)
        reflected = found["columns"]
        if "get_columns" in known:
            continue
        assert list(reflected) == [column for table, column in columns if table == name]
        # A list reflects as NullType (duckdb-engine has no list type): its JSON twin is text.
        for column, kind in reflected.items():
            if kind == "NullType":
                assert columns[(name, column)].endswith("[]"), (name, column)
                assert reflected[f"{column}_json"] in ("String", "VARCHAR"), (name, column)
    kinds = sorted({error.split(": ")[0] + ": " + error.split("Error: ")[-1]
                    for found in objects.values() for error in found["errors"]})
    print(f"{stack}: {len(objects)} objects, {sum(f['rows'] for f in objects.values())} rows"
          f" read into Arrow; reflection errors {kinds or 'none'}")
