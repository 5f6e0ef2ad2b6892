"""`python -m pipelines.run` against the emulator: after a complete observation the next is
incremental, `--full` lists every task, and the warehouse says which was which."""

from mixpeek_emulator import running_emulator
from mixpeek_tasks.warehouse.database import Warehouse
from tests.e2e.test_observations import KEY, _run


def test_the_second_run_is_incremental_and_full_lists_every_task(tmp_path):
    export_dir = tmp_path / "data"
    with running_emulator(tasks=1200, seed=63, api_key=KEY) as server:
        runs = [_run(export_dir, server, *args) for args in ((), (), ("--full",))]
        tasks = len(server.store.tasks)
    assert [run.returncode for run in runs] == [0, 0, 0], [run.stderr for run in runs]
    rows = Warehouse(export_dir / "warehouse.duckdb").query(
        "SELECT c.strategy, c.incremental_from, c.listed, n.observation_id"
        " FROM export_coverage AS c JOIN export_nights AS n USING (observation_id)"
        " ORDER BY observation_id").rows
    (first, _, first_listed, first_id), second, third = rows
    assert first != "incremental" and first_listed == tasks
    assert second[0] == "incremental" and second[1] == first_id and second[2] < tasks / 5
    assert third[0] != "incremental" and third[1] is None and third[2] == tasks
    reasons = Warehouse(export_dir / "warehouse.duckdb").query(
        "SELECT strategy_reason FROM export_coverage ORDER BY observation_id").rows
    assert "a full listing was asked for (--full)" in reasons[2][0]
