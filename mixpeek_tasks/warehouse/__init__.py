"""The DuckDB warehouse: snapshot loads, status history, `tasks`, and the analysts' views.

database.py is what callers use (`Warehouse`); files.py the published file, the writer file,
the lock and the publish; connection.py a tuned connection that runs the SQL files; schema.py
the tables (sql/schema/); load.py a night's declared steps (sql/load/, numbered in the order
they run) and the append-or-rebuild decision; views.py the views (sql/views/) in the order
their `-- depends on:` lines give.
"""
