"""What a date can mean, through `python -m pipelines.run` against the emulator: only what can
be true of it. A past date that was never observed is refused and changes nothing; two
observations on one day are two points of the history; a date with a stored observation is
reloaded without a request; a tree written before observations is placed at its files' read
times, never at its folders' labels."""

import hashlib
import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone

import pyarrow as pa
import pyarrow.parquet as pq

from mixpeek_emulator import running_emulator
from mixpeek_tasks.snapshot.flatten import QUARANTINE_SCHEMA, flatten_tasks
from mixpeek_tasks.snapshot.tree import SnapshotTree
from mixpeek_tasks.warehouse.database import Warehouse
from tests.support import ROOT
from tests.support.snapshots import legacy_night, publish_tables, write_snapshot

KEY = "sk_test_observations_0123456789"
# What a history is, asked of the warehouse: every table a user reads, in a fixed order.
FACTS = ("SELECT * FROM export_nights ORDER BY observation_id",
         "SELECT * FROM task_status_history ORDER BY task_id, interval_no",
         "SELECT * FROM tasks ORDER BY task_id",
         "SELECT * FROM daily_summary ORDER BY observation_id")


def _run(export_dir, server, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIXPEEK_", "DAGSTER_"))}
    env.update({"MIXPEEK_EXPORT_DIR": str(export_dir), "MIXPEEK_API_KEY": KEY,
                "MIXPEEK_BASE_URL": server.base_url, "PYTHONPATH": str(ROOT)})
    return subprocess.run([sys.executable, "-m", "pipelines.run", *args], cwd=export_dir.parent,
                          env=env, capture_output=True, text=True, timeout=300)


def _facts(warehouse: Warehouse) -> list:
    return [warehouse.query(sql).rows for sql in FACTS]


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_past_date_is_refused_in_one_line_and_the_warehouse_is_unchanged(tmp_path):
    export_dir = tmp_path / "data"
    with running_emulator(tasks=1500, seed=61, api_key=KEY) as server:
        assert _run(export_dir, server).returncode == 0
        server.store.churn(300)  # the account moves on: tasks created, tasks finished
        warehouse = Warehouse(export_dir / "warehouse.duckdb")
        before, digest = _facts(warehouse), _digest(warehouse.path)
        requests = len(server.request_log)
        past = datetime.now(timezone.utc).date() - timedelta(days=5)
        refused = _run(export_dir, server, "--date", past.isoformat())
        asked = len(server.request_log) - requests
    print(f"$ python -m pipelines.run --date {past}  (exit {refused.returncode})")
    print(refused.stderr, end="")
    assert refused.returncode == 2
    (line,) = refused.stderr.splitlines()
    assert line.startswith(f"error: {past} has no stored observation, and it cannot be observed:"
                           " the service lists tasks as they are now")
    assert "run without --date to observe now" in line and "Traceback" not in line
    assert asked == 0
    assert _digest(warehouse.path) == digest and _facts(warehouse) == before
    # And the one observation there is holds no task before it existed.
    early = warehouse.query(
        "SELECT count(*) FILTER (WHERE CAST(timezone('UTC', t.first_seen_at) AS DATE)"
        "   < CAST(timezone('UTC', t.created_at) AS DATE)),"
        " count(*) FILTER (WHERE h.valid_from < t.created_at),"
        " count(*) FILTER (WHERE n.observed_on <> CAST(timezone('UTC', t.first_seen_at) AS DATE)),"
        " count(*)"
        " FROM tasks AS t JOIN task_status_history AS h USING (task_id)"
        " JOIN export_nights AS n ON n.observation_id = t.first_observation").rows[0]
    assert early == (0, 0, 0, 1500)


def test_two_observations_on_one_day_are_two_points_of_the_history(tmp_path):
    export_dir = tmp_path / "data"
    with running_emulator(tasks=1200, seed=62, api_key=KEY) as server:
        assert _run(export_dir, server).returncode == 0
        server.store.churn(400)
        second = _run(export_dir, server)
    assert second.returncode == 0, second.stderr
    warehouse = Warehouse(export_dir / "warehouse.duckdb")
    nights = warehouse.query(
        "SELECT observation_id, observed_on, listing_started_at, listing_finished_at,"
        " tasks_listed FROM export_nights ORDER BY listing_started_at").rows
    summary = warehouse.query(
        "SELECT observation_id, observed_on, tasks_listed, new_tasks, finished"
        " FROM daily_summary ORDER BY listing_started_at").rows
    runs = warehouse.query("SELECT observation_id FROM export_runs").rows
    changed = warehouse.query(
        "SELECT count(*) FROM task_status_history AS h JOIN export_nights AS n"
        " ON h.valid_to IS NOT NULL AND h.valid_to BETWEEN n.listing_started_at"
        " AND n.listing_finished_at WHERE n.observation_id = $second",
        {"second": nights[1][0]}).rows[0][0]
    print("export_nights:", *nights, sep="\n  ")
    print("daily_summary (observation_id, observed_on, tasks_listed, new_tasks, finished):",
          *summary, sep="\n  ")
    print(f"status intervals closed by the second observation: {changed}")
    assert len(nights) == len(summary) == len(runs) == 2
    (first_id, first_day, _, first_end, _), (second_id, second_day, second_start, _, _) = nights
    assert first_id < second_id and first_day == second_day and first_end <= second_start
    assert summary[1][3] > 0 and changed > 0  # new tasks and finished ones, at the second


def test_a_stored_day_is_reloaded_without_a_request_and_its_facts_unchanged(tmp_path):
    export_dir = tmp_path / "data"
    three_days_ago = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=3)
    records = [{"task_id": f"t{i}", "task_type": "thumbnail", "status": "PROCESSING",
                "created_at": (three_days_ago - timedelta(hours=1)).isoformat()}
               for i in range(20)]
    write_snapshot(export_dir, records, three_days_ago)  # an observation made three days ago
    with running_emulator(tasks=800, seed=63, api_key=KEY) as server:
        assert _run(export_dir, server).returncode == 0
        warehouse = Warehouse(export_dir / "warehouse.duckdb")
        before = _facts(warehouse)
        requests = len(server.request_log)
        reload = _run(export_dir, server, "--date", three_days_ago.date().isoformat())
        asked = len(server.request_log) - requests
    assert reload.returncode == 0, reload.stderr
    assert asked == 0
    assert _facts(warehouse) == before
    assert len(before[0]) == 2


def test_a_tree_of_dated_folders_is_rebuilt_at_its_files_read_times(tmp_path):
    # Yesterday's code wrote `--date <5 days ago>` as a folder of that date holding a listing
    # read today: a rebuild places each night at the read times its files hold.
    tree = SnapshotTree(tmp_path / "parquet")
    read_on_22nd = datetime(2026, 11, 22, 2, 0, 5, tzinfo=timezone.utc)
    read_on_27th = datetime(2026, 11, 27, 9, 30, 0, tzinfo=timezone.utc)
    tasks = [{"task_id": f"t{i}", "task_type": "thumbnail", "status": "COMPLETED",
              "created_at": "2026-11-21T10:00:00+00:00"} for i in range(3)]
    created_27th = {"task_id": "new", "task_type": "thumbnail", "status": "PENDING",
                    "created_at": "2026-11-27T09:00:00+00:00"}
    for label, read_at, listed in ((date(2026, 11, 22), read_on_22nd, tasks),
                                   (date(2026, 11, 18), read_on_27th, [*tasks, created_27th])):
        first = flatten_tasks(listed[:1], label, read_at)
        rest = flatten_tasks(listed[1:], label, read_at + timedelta(seconds=40))
        publish_tables(tree, legacy_night(label), pa.concat_tables([first.tasks, rest.tasks]),
                       QUARANTINE_SCHEMA.empty_table())
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    warehouse.rebuild()
    nights = warehouse.query(
        "SELECT observation_id, observed_on, listing_started_at, listing_finished_at"
        " FROM export_nights ORDER BY listing_started_at").rows
    assert nights == [
        ("2026-11-22T020005Z", date(2026, 11, 22), read_on_22nd,
         read_on_22nd + timedelta(seconds=40)),
        ("2026-11-27T093000Z", date(2026, 11, 27), read_on_27th,
         read_on_27th + timedelta(seconds=40))]
    new = warehouse.query(
        "SELECT t.first_seen_at, h.valid_from, t.first_observation FROM tasks AS t"
        " JOIN task_status_history AS h USING (task_id) WHERE task_id = 'new'").rows
    assert new == [(read_on_27th + timedelta(seconds=40), read_on_27th + timedelta(seconds=40),
                    "2026-11-27T093000Z")]
    summary = warehouse.query("SELECT observed_on, new_tasks FROM daily_summary"
                              " ORDER BY listing_started_at").rows
    assert summary == [(date(2026, 11, 22), 3), (date(2026, 11, 27), 1)]
    assert pq.read_metadata(tree.location("tasks", legacy_night(date(2026, 11, 18)))).num_rows == 4
