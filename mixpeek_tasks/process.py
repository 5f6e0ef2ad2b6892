"""Settings that belong to a whole process, made by its entry point (the Dagster code location,
a CLI, the benchmark) before it imports pyarrow, never as a side effect of importing a module."""

import os

from mixpeek_tasks.settings import ARROW_MEMORY_POOL


def use_system_allocator() -> None:
    """Run Arrow on the system allocator.

    pyarrow's default allocator (mimalloc) keeps freed pages for reuse; an export frees a page's
    buffers every few milliseconds, and with the system allocator its peak RSS at 100,000 tasks
    drops from ~290 MB to ~230 MB at the same speed (benchmarks/RESULTS.md). Arrow reads this
    once, when it is first imported, so it must run before anything imports pyarrow; a value
    the user set stays.
    """
    os.environ.setdefault(ARROW_MEMORY_POOL.name, ARROW_MEMORY_POOL.default)
