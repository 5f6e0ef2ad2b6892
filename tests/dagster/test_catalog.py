"""Dagster's catalog: every table and view of the warehouse is an asset downstream of what
builds it, with the column schema of mixpeek_tasks/warehouse/dictionary.py; every asset has
owners and a description."""

from dagster import AssetKey

from assets import OWNERS
from mixpeek_tasks.warehouse.dictionary import LOAD, OBJECTS
from pipelines.definitions import defs


def test_every_table_and_view_is_an_asset_downstream_of_its_builder():
    graph = defs.resolve_asset_graph()
    for obj in OBJECTS:
        key = AssetKey(["warehouse", obj.name])
        builder = "warehouse_tasks" if obj.built_by == LOAD else "task_analytics"
        assert graph.get(key).parent_keys == {AssetKey(builder)}, obj.name
    # Lineage runs from the API's snapshot through the load to the analysts' objects.
    assert AssetKey("task_snapshot") in graph.get(AssetKey("warehouse_tasks")).parent_keys
    assert AssetKey("warehouse_tasks") in graph.get(AssetKey("task_analytics")).parent_keys


def test_each_column_schema_is_the_data_dictionary():
    specs = {spec.key: spec for spec in defs.resolve_all_asset_specs()}
    for obj in OBJECTS:
        spec = specs[AssetKey(["warehouse", obj.name])]
        schema = spec.metadata["dagster/column_schema"]
        assert [(c.name, c.type, c.description) for c in schema.columns] == [
            (c.name, c.type, c.description) for c in obj.columns], obj.name
        assert spec.description == obj.description


def test_every_asset_has_owners_and_a_description():
    specs = defs.resolve_all_asset_specs()
    assert len(specs) == 4 + len(OBJECTS)
    for spec in specs:
        assert list(spec.owners) == OWNERS, spec.key
        assert spec.description and len(spec.description) > 20, spec.key
