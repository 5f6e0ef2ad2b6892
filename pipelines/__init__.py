"""The Dagster code location: definitions, jobs and schedules, sensors, resources, partitions,
and the command-line entry points. Importing the package does nothing: the process-wide
settings are made where a process starts (pipelines/definitions.py)."""
