"""The warehouse's tables and views in Dagster's catalog: one asset spec each, downstream of
the asset that builds it, with its column schema from mixpeek_tasks/warehouse/dictionary.py
(the source docs/data-dictionary.md is written from). The builders report each object's row
count, table name and URI under Dagster's metadata keys when they materialize."""

from pathlib import Path

from dagster import AssetKey, AssetMaterialization, AssetSpec, TableColumn, TableSchema

from assets import OWNERS
from mixpeek_tasks.warehouse.database import Warehouse
from mixpeek_tasks.warehouse.dictionary import LOAD, OBJECTS, VIEWS, WarehouseObject

# The specs are not executable (the builders make them), so they live outside the group the
# nightly job selects.
CATALOG_GROUP = "warehouse"
BUILDERS = {LOAD: "warehouse_tasks", VIEWS: "task_analytics"}
ROW_COUNT, TABLE_NAME, URI = "dagster/row_count", "dagster/table_name", "dagster/uri"
COLUMN_SCHEMA = "dagster/column_schema"


def uri(location: Path | str) -> str:
    """A local path as a file:// URI; an s3:// URI as it is."""
    return location if "://" in str(location) else Path(location).resolve().as_uri()


def table_key(name: str) -> AssetKey:
    return AssetKey(["warehouse", name])


def _column_schema(obj: WarehouseObject) -> TableSchema:
    return TableSchema(columns=[TableColumn(column.name, column.type,
                                            description=column.description)
                                for column in obj.columns])


warehouse_table_specs = [
    AssetSpec(
        table_key(obj.name),
        deps=[BUILDERS[obj.built_by]],
        description=obj.description,
        group_name=CATALOG_GROUP,
        owners=OWNERS,
        kinds={"duckdb", obj.kind},
        metadata={COLUMN_SCHEMA: _column_schema(obj)},
    )
    for obj in OBJECTS
]


def qualified_name(warehouse: Warehouse, name: str) -> str:
    """`name` as DuckDB names it in the warehouse file: catalog (the file's stem).schema.name."""
    return f"{warehouse.path.stem}.main.{name}"


def materializations(warehouse: Warehouse, built_by: str) -> list[AssetMaterialization]:
    """One materialization of each object `built_by` makes that the warehouse holds (a tree on
    S3 has no task_snapshots view), with its row count as the published file has it."""
    made = [obj for obj in OBJECTS if obj.built_by == built_by]
    present = {row[0] for row in warehouse.query(
        "SELECT table_name FROM duckdb_tables() UNION ALL"
        " SELECT view_name FROM duckdb_views() WHERE NOT internal").rows}
    events = []
    for obj in made:
        if obj.name not in present:
            continue
        rows = warehouse.query(f'SELECT count(*) FROM "{obj.name}"').rows[0][0]
        events.append(AssetMaterialization(
            asset_key=table_key(obj.name),
            description=f"{'loaded' if built_by == LOAD else 'built'} by {BUILDERS[built_by]}",
            metadata={ROW_COUNT: rows, TABLE_NAME: qualified_name(warehouse, obj.name),
                      URI: uri(warehouse.path), COLUMN_SCHEMA: _column_schema(obj)}))
    return events
