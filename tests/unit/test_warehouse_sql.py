"""The warehouse's SQL files: the load's declared steps are its numbered files, run in that
order, each writing the tables it declares; the views are created in the order their
`-- depends on:` lines give; a non-editable install ships every file."""

import re
import tomllib
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from mixpeek_tasks.snapshot.coverage import Coverage, ServiceCounts, SnapshotContent
from mixpeek_tasks.snapshot.tree import SnapshotTree
from mixpeek_tasks.sql_files import sql_statements
from mixpeek_tasks.warehouse import load
from mixpeek_tasks.warehouse.connection import SQL_PACKAGE
from mixpeek_tasks.warehouse.load import LOAD_STEPS, append_night
from mixpeek_tasks.warehouse.views import ViewOrderError, creation_order, depends_on, view_files
from tests.support import ROOT
from tests.support.snapshots import write_snapshot

PACKAGE_DIR = ROOT / "mixpeek_tasks" / "warehouse"
READ_AT = datetime(2026, 11, 23, 2, tzinfo=timezone.utc)
# What a statement writes: the table after INSERT INTO, UPDATE, DELETE FROM or CREATE TABLE.
_WRITE = re.compile(r"^\s*(?:INSERT(?: OR REPLACE)? INTO|UPDATE|DELETE FROM"
                    r"|CREATE(?: OR REPLACE)?(?: TEMP)? TABLE(?: IF NOT EXISTS)?)\s+(\w+)",
                    re.IGNORECASE)
_CREATE = re.compile(r"^CREATE(?: OR REPLACE)? (?:VIEW|TABLE|MACRO) (\w+)", re.MULTILINE)


def _code(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))


def test_the_declared_load_steps_are_the_files_of_sql_load_numbered_in_order():
    files = sorted(p.name for p in (PACKAGE_DIR / "sql" / "load").glob("*.sql"))
    declared = [step.file for step in LOAD_STEPS]
    assert sorted(declared) == files
    assert [int(name.split("_", 1)[0]) for name in declared] == list(range(1, len(files) + 1))
    assert all(re.fullmatch(r"\d\d_[a-z_]+\.sql", name) for name in declared)


@pytest.mark.parametrize("step", LOAD_STEPS, ids=lambda step: step.file)
def test_each_load_step_writes_the_tables_it_declares_and_no_other(step):
    written = {_WRITE.match(statement).group(1)
               for statement in sql_statements(SQL_PACKAGE, step.path)}
    assert written == set(step.writes)


def _coverage() -> bytes:
    moment = READ_AT
    return Coverage(
        strategy="cursor", reason="the only one", positional=True, cutoff=moment,
        at_start=ServiceCounts(None, None), at_end=ServiceCounts(None, None),
        content=SnapshotContent(listed=2, listed_from_before=2, oldest_created_at=None,
                                newest_created_at=None, from_mongodb_share=None),
        requests=1,
    ).to_json()


@pytest.mark.parametrize("coverage", [True, False], ids=["with coverage", "without"])
def test_an_observation_runs_the_declared_steps_in_their_order(tmp_path, monkeypatch, coverage):
    records = [{"task_id": f"task-{n}", "task_type": "thumbnail", "status": "COMPLETED"}
               for n in range(2)]
    observation = write_snapshot(tmp_path, records, READ_AT, _coverage() if coverage else None)
    ran = []

    def recording(con, name, params):
        ran.append(name)
        run_sql(con, name, params)

    run_sql = load.run_sql
    monkeypatch.setattr(load, "run_sql", recording)
    with duckdb.connect() as con, SnapshotTree(tmp_path / "parquet").files(observation) as files:
        append_night(con, files, merge_bucket_rows=1)
        listed = con.execute("SELECT tasks_listed FROM export_nights").fetchone()[0]
    steps = [step for step in LOAD_STEPS if coverage or not step.with_coverage]
    assert [name for name in ran if name.startswith("load/")] == [step.path for step in steps]
    assert listed == 2


def test_a_view_is_created_after_the_views_it_depends_on():
    files = {"a_latest": "-- depends on: z_first\nCREATE VIEW a_latest AS FROM z_first;",
             "m_middle": "-- depends on: z_first, a_latest\nCREATE VIEW m_middle AS FROM a_latest;",
             "z_first": "CREATE VIEW z_first AS SELECT 1;",
             "b_free": "CREATE VIEW b_free AS SELECT 2;"}
    assert creation_order(files) == ["b_free", "z_first", "a_latest", "m_middle"]


def test_views_that_depend_on_each_other_in_a_cycle_are_refused_with_the_cycle():
    files = {"one": "-- depends on: two\n", "two": "-- depends on: three\n",
             "three": "-- depends on: one\n", "free": ""}
    with pytest.raises(ViewOrderError, match="cycle") as refused:
        creation_order(files)
    assert {"one", "two", "three"} <= set(re.findall(r"\w+", str(refused.value)))
    assert "free" not in str(refused.value)


def test_a_view_depending_on_a_missing_file_is_refused_by_name():
    with pytest.raises(ViewOrderError,
                       match=r"^views/report\.sql depends on gone, which no file in views/"):
        creation_order({"report": "-- depends on: task_durations, gone\n",
                        "task_durations": ""})


def test_every_view_file_declares_the_other_views_it_reads():
    files = view_files()
    for name, sql in files.items():
        assert _CREATE.findall(_code(sql)) == [name], f"views/{name}.sql creates {name}"
        reads = {other for other in files.keys() - {name}
                 if re.search(rf"\b{other}\b", _code(sql))}
        assert depends_on(sql) == reads, f"views/{name}.sql"
    order = creation_order(files)
    assert sorted(order) == sorted(files)
    assert order.index("task_durations") < order.index("task_latency")
    assert order.index("task_failures") < order.index("task_failure_reasons")
    assert order.index("normalize_error") < order.index("task_failures")


def test_a_non_editable_install_ships_every_sql_file_of_the_warehouse():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["mixpeek_tasks.warehouse"]
    shipped = {path for pattern in globs for path in PACKAGE_DIR.glob(pattern)}
    assert shipped == set(PACKAGE_DIR.rglob("*.sql"))
    assert {Path(path).parent.name for path in shipped} == {"schema", "load", "views"}
