"""What Apache Superset does with a database, run in a venv of its own (tests/integration/
test_bi_types.py): duckdb-engine under the SQLAlchemy installed there reflects every table and
view as Superset's dataset editor does (inspector.get_columns, get_pk_constraint,
get_foreign_keys, get_indexes), then `SELECT *` each and turns each column into an Arrow array
from the fetched Python values, as Superset's result set does. Prints one JSON document:
per object, its reflected column types, rows read and every error (`kind: message`).

Usage: python superset_path.py WAREHOUSE.duckdb  (needs only sqlalchemy, duckdb-engine, pyarrow)
"""

import json
import sys
import warnings

import pyarrow as pa
import sqlalchemy as sa

REFLECTIONS = ("get_columns", "get_pk_constraint", "get_foreign_keys", "get_indexes")


def _first_line(error: Exception) -> str:
    return f"{type(error).__name__}: {str(error).splitlines()[0]}"


def visit(engine: sa.engine.Engine, inspector, name: str) -> dict:
    found = {"columns": {}, "rows": None, "errors": []}
    for reflection in REFLECTIONS:
        try:
            result = getattr(inspector, reflection)(name)
        except Exception as error:  # every failure is the finding, whatever its class
            found["errors"].append(f"{reflection}: {_first_line(error)}")
            continue
        if reflection == "get_columns":
            found["columns"] = {column["name"]: type(column["type"]).__name__
                                for column in result}
    try:
        with engine.connect() as connection:
            result = connection.execute(sa.text(f'SELECT * FROM "{name}"'))
            names, rows = list(result.keys()), result.fetchall()
    except Exception as error:
        found["errors"].append(f"select: {_first_line(error)}")
        return found
    found["rows"] = len(rows)
    for number, column in enumerate(names):
        try:
            pa.array([row[number] for row in rows])
        except Exception as error:
            found["errors"].append(f"arrow {column}: {_first_line(error)}")
    return found


def main(path: str) -> None:
    warnings.simplefilter("ignore")  # duckdb-engine warns about indexes and unknown types
    engine = sa.create_engine(f"duckdb:///{path}", connect_args={"read_only": True})
    inspector = sa.inspect(engine)
    names = inspector.get_table_names() + inspector.get_view_names()
    print(json.dumps({
        "sqlalchemy": sa.__version__,
        "objects": {name: visit(engine, inspector, name) for name in names},
    }))


if __name__ == "__main__":
    main(sys.argv[1])
