"""Mixpeek task-history exporter.

The modules beside this file (client, emulator, flatten, parquet_store, warehouse) are the
library layer and never import Dagster; `definitions.py` is the only Dagster entry point here.
"""

import os

# pyarrow's default allocator (mimalloc) keeps freed pages for reuse; an export frees a page's
# buffers every few milliseconds, and with the system allocator its peak RSS at 100,000 tasks
# drops from ~290 MB to ~230 MB at the same speed (benchmarks/RESULTS.md). Arrow reads this
# once, when it is first imported, so it is set here, before any module below imports it.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
