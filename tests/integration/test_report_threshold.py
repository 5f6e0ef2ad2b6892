"""`python -m mixpeek_tasks.reporting.html --stuck-after-hours N` stores N; a later report
without the option keeps it instead of silently resetting it to the default."""

import shutil

from mixpeek_tasks.reporting.html import main, stored_threshold
from mixpeek_tasks.warehouse.database import DEFAULT_STUCK_AFTER_HOURS, Warehouse


def test_a_report_keeps_the_stored_threshold_unless_told_another(history, tmp_path,
                                                                   monkeypatch, capsys):
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    # The published file and the writer file the report's build_views writes on.
    shutil.copy(history.warehouse.path, warehouse.path)
    shutil.copy(history.warehouse.files.writer, warehouse.files.writer)
    monkeypatch.setenv("MIXPEEK_EXPORT_DIR", str(tmp_path))
    assert stored_threshold(warehouse) == DEFAULT_STUCK_AFTER_HOURS
    main(["--stuck-after-hours", "6"])
    assert stored_threshold(warehouse) == 6
    main([])
    assert stored_threshold(warehouse) == 6
    assert capsys.readouterr().out.strip().endswith("report/index.html")
