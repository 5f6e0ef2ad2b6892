"""The naive pipeline the export is measured against, written as a typical user would.

httpx and the stdlib's JSON, every page kept in one list, `pandas.json_normalize` of the whole
history, `DataFrame.to_parquet`, then DuckDB reads the file into a table and a view. Offset
paging stops at 10,000 tasks (the API's cap), so it pages by the same task_id keyset, in a
plain loop.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import httpx
import pandas as pd


def run(base_url: str, workdir: Path, api_key: str = "bench") -> int:
    tasks = []
    last_id = None
    with httpx.Client(base_url=base_url, timeout=60,
                      headers={"Authorization": f"Bearer {api_key}"}) as http:
        while True:
            body = {"sort": {"field": "task_id", "direction": "asc"}}
            if last_id is not None:
                body["filters"] = {"AND": [{"field": "task_id", "operator": "gt",
                                            "value": last_id}], "case_sensitive": True}
            response = http.post("/v1/tasks/list", params={"limit": 1000}, json=body)
            response.raise_for_status()
            page = response.json()["results"]
            tasks.extend(page)
            if len(page) < 1000:
                break
            last_id = page[-1]["task_id"]

    frame = pd.json_normalize(tasks)
    parquet_path = workdir / "tasks.parquet"
    frame.to_parquet(parquet_path)

    con = duckdb.connect(str(workdir / "naive.duckdb"))
    con.execute("CREATE OR REPLACE TABLE tasks AS SELECT * FROM read_parquet(?)",
                [str(parquet_path)])
    con.execute("""
        CREATE OR REPLACE VIEW task_success_rate AS
        SELECT task_type,
               count(*) AS tasks,
               count(*) FILTER (WHERE status = 'COMPLETED') AS completed,
               count(*) FILTER (WHERE status = 'FAILED') AS failed
        FROM tasks GROUP BY task_type""")
    rows = con.execute("SELECT count(*) FROM tasks").fetchone()[0]
    con.close()
    return rows
