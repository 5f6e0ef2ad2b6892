"""What people read: report queries, markdown for Dagster, text for the terminal, HTML."""
