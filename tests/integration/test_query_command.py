"""`python -m mixpeek_tasks.reporting.query`: the warehouse from a shell, read-only."""

import pytest

from mixpeek_tasks.reporting.query import main
from tests.support import ROOT


def test_a_query_prints_a_table_of_the_warehouse(history, capsys):
    path = str(history.warehouse.path)
    assert main(["SELECT observation_id, tasks_listed FROM daily_summary ORDER BY 1", "--warehouse",
                 path]) == 0
    lines = capsys.readouterr().out.splitlines()
    expected = history.warehouse.query(
        "SELECT observation_id, tasks_listed FROM daily_summary ORDER BY 1").rows
    assert lines[0].split() == ["observation_id", "tasks_listed"]
    assert [line.split() for line in lines[2:]] == [[str(d), str(n)] for d, n in expected]


def test_a_bad_query_or_a_missing_warehouse_is_one_line(history, tmp_path, capsys):
    assert main(["SELECT nope FROM tasks", "--warehouse", str(history.warehouse.path)]) == 1
    assert main(["SELECT 1", "--warehouse", str(tmp_path / "none.duckdb")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("error: Binder Error") and err[1].startswith("error: no warehouse")


def test_the_help_says_what_it_does_in_whole_sentences(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    paragraphs = [" ".join(p.split()) for p in capsys.readouterr().out.split("\n\n")]
    description, epilog = paragraphs[1], paragraphs[-1]
    assert description.startswith("Run one read query on the warehouse")
    assert description.endswith(".") and epilog.endswith(".")
    assert "read-only" in description and "docs/sql-cookbook.md" in epilog
    for document in ("docs/sql-cookbook.md", "docs/data-dictionary.md"):
        assert (ROOT / document).exists()
