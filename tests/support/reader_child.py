"""A BI tool, as far as the warehouse can tell: `held` keeps one read-only connection open all
along, `fresh` opens one per query (DuckDB shares one database per file within a process, so
the two kinds live in processes of their own). Each asks task_success_rate and counts what it
sees until told to stop, then prints one JSON line: queries, errors, what it saw."""

import json
import sys
import time
from pathlib import Path

import duckdb

QUERY = """
SELECT (SELECT max(observation_id) FROM export_runs),
       (SELECT sum(tasks) FROM task_success_rate),
       (SELECT count(*) FROM tasks),
       (SELECT count(DISTINCT task_id) FROM task_status_history)
"""

mode, path, stop_file = sys.argv[1], sys.argv[2], Path(sys.argv[3])
held = duckdb.connect(path, read_only=True) if mode == "held" else None
seen = {"rows": [], "queries": 0, "errors": []}
while not stop_file.exists():
    try:
        if held is not None:
            row = held.execute(QUERY).fetchone()
        else:
            with duckdb.connect(path, read_only=True) as con:
                row = con.execute(QUERY).fetchone()
        seen["rows"].append([str(row[0]), *row[1:]])
    except duckdb.Error as error:
        seen["errors"].append(str(error))
    seen["queries"] += 1
    time.sleep(0.02)
print(json.dumps(seen))
