"""The DuckDB warehouse: snapshot loads, status history, `tasks`, and the analysts' views."""
