"""The Dagster code location: definitions, jobs and schedules, resources, partitions.

Importing it starts a Dagster process, so the process-wide settings are made here, before
anything below imports pyarrow.
"""

from mixpeek_tasks.process import use_system_allocator

use_system_allocator()
