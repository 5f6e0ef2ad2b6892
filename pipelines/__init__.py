"""Mixpeek task-history exporter.

The modules beside this file (client, emulator, flatten, parquet_store, warehouse) are the
library layer and never import Dagster; `definitions.py` is the only Dagster entry point here.
"""
