"""Run by test_crash.py in a child process that it kills with SIGKILL at a random moment."""

import sys
from pathlib import Path

from mixpeek_tasks.api.transport import MixpeekClient
from mixpeek_tasks.snapshot.export import export_snapshot
from mixpeek_tasks.warehouse.database import Warehouse

base_url, export_dir = sys.argv[1], Path(sys.argv[2])
with MixpeekClient("sk_test_crash", base_url, page_size=100) as client:
    result = export_snapshot(client, export_dir / "parquet", concurrency=2,
                             part_rows=400)
warehouse = Warehouse(export_dir / "warehouse.duckdb")
# With --load-forever the child rebuilds the warehouse until killed, to be killed inside a load.
while True:
    warehouse.load() if "--load-forever" not in sys.argv else warehouse.rebuild()
    warehouse.build_views()
    if "--load-forever" not in sys.argv:
        break
    print("loaded", flush=True)
print(result.rows, result.resumed_rows)
