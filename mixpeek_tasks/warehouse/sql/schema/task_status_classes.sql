-- Each status as terminal, in_flight or other, filled from mixpeek_tasks/api/vocabulary.py
-- (warehouse/schema.py) so SQL and Python agree on what "terminal" means: replaced with every
-- night appended, before the history reads it, and with the views.
CREATE OR REPLACE TABLE task_status_classes (
    status VARCHAR PRIMARY KEY,
    status_class VARCHAR NOT NULL
);
