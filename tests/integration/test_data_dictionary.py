"""docs/data-dictionary.md is written from mixpeek_tasks/warehouse/dictionary.py, which
describes every column of every table and view a built warehouse holds, with its type."""

from mixpeek_tasks.warehouse.dictionary import DOC, OBJECTS, render


def test_the_doc_is_written_from_the_dictionary():
    assert DOC.read_text() == render(), (
        "docs/data-dictionary.md is stale: run python -m mixpeek_tasks.warehouse.dictionary")


def test_every_column_of_the_warehouse_is_described_with_its_type(history):
    held = history.warehouse.query(
        "SELECT table_name, list(column_name || ' ' || data_type ORDER BY column_index)"
        " FROM duckdb_columns() WHERE NOT internal GROUP BY table_name").rows
    described = {obj.name: [f"{c.name} {c.type}" for c in obj.columns] for obj in OBJECTS}
    assert dict(held) == described
    kinds = dict(history.warehouse.query(
        "SELECT table_name, 'table' FROM duckdb_tables()"
        " UNION ALL SELECT view_name, 'view' FROM duckdb_views() WHERE NOT internal").rows)
    assert kinds == {obj.name: obj.kind for obj in OBJECTS}
    assert all(column.description for obj in OBJECTS for column in obj.columns)
