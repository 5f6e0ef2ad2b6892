"""Status history and the `tasks` table over five observations, against the served records."""

import json
from itertools import groupby

from mixpeek_tasks.warehouse.database import Warehouse
from tests.support.multiday import kept_statuses, latest_known


def test_history_has_one_row_per_status_interval(history):
    # An interval runs from the read time of the first record that showed its status to that
    # of the first that showed the next: times the listings really read, never a date label.
    expected = set()
    read = history.read_at
    for task_id, nights in kept_statuses(history).items():
        runs = [(status, [night for night, _, _ in group])
                for status, group in groupby(nights, key=lambda n: n[1])]
        for number, (status, observed) in enumerate(runs, start=1):
            valid_to = read[runs[number][1][0]][task_id] if number < len(runs) else None
            expected.add((task_id, number, status, read[observed[0]][task_id], valid_to,
                          tuple(observed)))
    rows = history.warehouse.query(
        "SELECT task_id, interval_no, status, valid_from, valid_to, observed_in"
        " FROM task_status_history").rows
    assert {(*row[:5], tuple(row[5])) for row in rows} == expected
    assert len(rows) == len(expected)
    moved = {row[0] for row in expected if row[1] == 2}
    three_steps = {row[0] for row in expected if row[1] == 3}
    assert len(moved) > 200 and len(three_steps) > 20  # the history really has changes


def test_a_terminal_status_never_goes_back_and_the_regression_is_kept(history):
    expected = {(task_id, night, reported, kept)
                for task_id, nights in kept_statuses(history).items()
                for night, kept, reported in nights if kept != reported}
    rows = history.warehouse.query(
        "SELECT task_id, observation_id, reported_status, kept_status"
        " FROM task_status_regressions"
    ).rows
    assert set(rows) == expected and len(rows) == len(expected)
    assert {row[0] for row in rows} == history.regressed
    final = {task_id: history.served[history.observations[-1]][task_id]["status"]
             for task_id in history.regressed}
    tasks = dict(((r[0]), r[1:]) for r in history.warehouse.query(
        "SELECT task_id, status, reported_status FROM tasks").rows)
    for task_id in history.regressed:
        kept = kept_statuses(history)[task_id][-1][1]
        assert tasks[task_id] == (kept, final[task_id]) and kept != final[task_id]


def test_thinner_records_never_overwrite_richer_facts(history):
    rows = {r[0]: r[1:] for r in history.warehouse.query(
        "SELECT task_id, batch_id, object_count, total_tiers, additional_data_json,"
        " from_mongodb, last_full_record_observation, last_observation FROM tasks").rows}
    observations = history.observations
    for task_id in history.thinned:
        first_night = next(night for night in observations if task_id in history.served[night])
        full = history.served[first_night][task_id]["additional_data"]
        batch_id, objects, tiers, merged, fallback, last_full, last_seen = rows[task_id]
        assert (batch_id, objects, tiers) == (full["batch_id"], full["object_count"],
                                              full["total_tiers"])
        assert json.loads(merged) == {**full, "from_mongodb": True}
        assert (fallback, last_full, last_seen) == (True, observations[1], observations[-1])
    for task_id, (batch_id, objects, tiers, *_) in rows.items():
        assert (batch_id, objects, tiers) == tuple(
            latest_known(history, task_id, f) for f in ("batch_id", "object_count", "total_tiers"))


def test_queue_fields_describe_the_latest_record_only(history):
    queued_then_started = [
        task_id for task_id, task in history.served[history.observations[1]].items()
        if task.get("queue_position") is not None
        and history.served[history.observations[-1]][task_id].get("queue_position") is None]
    assert queued_then_started
    rows = dict(history.warehouse.query(
        "SELECT task_id, queue_position FROM tasks WHERE task_id IN (SELECT unnest($ids))",
        {"ids": queued_then_started}).rows)
    assert rows == dict.fromkeys(queued_then_started)


def test_a_rebuild_from_the_tree_equals_the_nights_appended(history, tmp_path):
    # The fixture appended the nights one by one; a rebuild starts a fresh file from the tree,
    # here with small merge buckets, so `tasks` is merged in a dozen parts instead of one.
    rebuilt = Warehouse(tmp_path / "rebuilt.duckdb", history.warehouse.tree,
                        merge_bucket_rows=1000)
    rebuilt.rebuild()
    for table, order in (("tasks", "task_id"), ("task_status_history", "task_id, interval_no"),
                         ("task_status_regressions", "task_id, observation_id"),
                         ("export_nights", "observation_id"),
                         ("batch_observations", "ALL"), ("daily_summary", "observation_id"),
                         ("batch_progress", "ALL")):
        query = f"SELECT * FROM {table} ORDER BY {order}"
        appended, from_scratch = history.warehouse.query(query), rebuilt.query(query)
        assert appended.columns == from_scratch.columns, table
        assert appended.rows == from_scratch.rows, table
        assert appended.rows, table


def test_loading_again_changes_nothing_and_a_rebuild_gives_the_same_history(history):
    query = "SELECT * FROM task_status_history ORDER BY task_id, interval_no"
    before = history.warehouse.query(query).rows
    again = history.warehouse.load()
    assert (again.observations_loaded, again.observation_id) == (0, history.observations[-1])
    assert history.warehouse.query(query).rows == before
    assert history.warehouse.rebuild().history_update == "rebuilt"
    assert history.warehouse.query(query).rows == before


def test_no_task_is_seen_before_it_was_created_nor_an_interval_before_it_existed(history):
    # The emulator's clock is the exporter's: a sighting is a page read after the task existed.
    early = history.warehouse.query(
        "SELECT count(*) FILTER (WHERE t.first_seen_at < t.created_at),"
        " count(*) FILTER (WHERE h.valid_from < t.created_at), count(*)"
        " FROM tasks AS t JOIN task_status_history AS h USING (task_id)").rows[0]
    assert early[:2] == (0, 0) and early[2] > 2500
