"""The HTML report, rendered in headless Chromium, and the analytics assets' metadata."""

import html
import json
import os
import re
import shutil
import subprocess
from collections import defaultdict

import pytest
from dagster import DagsterInstance, materialize

from assets.analytics import (
    task_analytics,
    terminal_counts_add_up,
    terminal_status_never_regresses,
)
from assets.report import task_report
from mixpeek_tasks.snapshot.parquet_files import METADATA_FOLDER
from mixpeek_tasks.warehouse.database import Warehouse
from pipelines.resources import ExportStorage
from tests.support.multiday import TERMINAL

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHARTS = {"success": "trace scatter", "latency": "trace scatter", "failures": "trace bars",
          "stuck": "trace bars"}
# Writes, once the page has loaded, how far each section is wider than the window (0 when it
# fits): the width of a section or of its scrolling table, less the width it was given.
OVERFLOW_PROBE = """<script>addEventListener("load", () => {
  document.body.dataset.overflow = JSON.stringify(Object.fromEntries(
    [...document.querySelectorAll("section")].map(s => [s.id, Math.max(
      s.scrollWidth - s.clientWidth,
      ...[...s.querySelectorAll(".scroll")].map(e => e.scrollWidth - e.clientWidth))])));
});</script>"""


def _up_to(history, tmp_path, observations: int):
    """An export dir whose tree holds the history's first `observations`, and its warehouse:
    the warehouse as it stood after that observation."""
    export_dir = tmp_path / f"first-{observations}"
    for observation_id in history.observations[:observations]:
        for dataset in ("tasks", "task_quarantine", METADATA_FOLDER):
            folder = f"{dataset}/observation={observation_id}"
            shutil.copytree(history.warehouse.tree.root / folder, export_dir / "parquet" / folder)
    Warehouse(export_dir / "warehouse.duckdb").rebuild()
    return export_dir


@pytest.fixture(scope="module")
def materialized(history, tmp_path_factory):
    """The analytics and the report of the whole history ("all"), and the analytics as they
    stood after the third and the fourth observation (which listed the regressions)."""
    root = tmp_path_factory.mktemp("report")
    export_dirs = {"all": history.warehouse.path.parent,
                   3: _up_to(history, root, 3), 4: _up_to(history, root, 4)}
    with DagsterInstance.ephemeral() as instance:
        return {name: materialize(
            [task_analytics, terminal_counts_add_up, terminal_status_never_regresses,
             *([task_report] if name == "all" else [])],
            instance=instance, resources={"storage": ExportStorage(export_dir=str(export_dir))})
            for name, export_dir in export_dirs.items()}


def _chromium(*args, tmp_path):
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000"]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True,
                          timeout=120, check=True)


def _report(history):
    return history.warehouse.path.parent / "report" / "index.html"


def _figures(page: str) -> dict[str, tuple[list[dict], dict]]:
    """Each chart's traces and layout, read from the plotly JSON the page embeds."""
    decoder = json.JSONDecoder()
    figures = {}
    for call in re.finditer(r'Plotly\.newPlot\(\s*"chart-(\w+)",\s*', page):
        traces, end = decoder.raw_decode(page, call.end())
        layout, _ = decoder.raw_decode(page, re.compile(r",\s*").match(page, end).end())
        figures[call.group(1)] = traces, layout
    return figures


def _colour(trace: dict) -> str | None:
    return trace.get("line", {}).get("color") or trace.get("marker", {}).get("color")


def test_the_report_asset_writes_a_self_contained_page(history, materialized):
    result = materialized["all"]
    assert result.success
    (event,) = [e for e in result.get_asset_materialization_events()
                if e.asset_key.to_user_string() == "task_report"]
    page_uri = event.materialization.metadata["dagster/uri"].value
    path = history.warehouse.path.parent / "report" / "index.html"
    assert page_uri == path.resolve().as_uri()
    page = open(path, encoding="utf-8").read()
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page)  # nothing to fetch
    assert page.count('class="plotly-graph-div"') == len(CHARTS)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")
def test_chromium_draws_every_chart(history, materialized, tmp_path):
    page = history.warehouse.path.parent / "report" / "index.html"
    dom = _chromium("--dump-dom", page.as_uri(), tmp_path=tmp_path).stdout
    for key, trace in CHARTS.items():
        chart = dom[dom.index(f'id="chart-{key}"'):]
        chart = chart[:chart.index("</section>")]
        assert 'class="main-svg"' in chart, key
        assert re.search(rf'class="{trace}', chart), key  # its data was drawn, not just axes
        assert re.search(r'<path[^>]+d="M[\d.]+', chart), key
    screenshot = tmp_path / "report.png"
    _chromium("--window-size=1300,3600", f"--screenshot={screenshot}", page.as_uri(),
              tmp_path=tmp_path)
    assert screenshot.stat().st_size > 50_000
    if os.environ.get("REPORT_SCREENSHOT"):
        shutil.copy(screenshot, os.environ["REPORT_SCREENSHOT"])


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")
def test_every_section_fits_a_1400_pixel_window(history, materialized, tmp_path):
    page = tmp_path / "index.html"
    page.write_text(_report(history).read_text(encoding="utf-8")
                    .replace("</body>", OVERFLOW_PROBE + "</body>"), encoding="utf-8")
    dom = _chromium("--window-size=1400,1000", "--dump-dom", page.as_uri(),
                    tmp_path=tmp_path).stdout
    overflow = json.loads(html.unescape(re.search(r'data-overflow="([^"]*)"', dom).group(1)))
    assert overflow.keys() == {*CHARTS, "daily"}
    assert overflow == dict.fromkeys(overflow, 0)  # no sideways scrolling, the table included


def test_no_two_series_in_a_chart_share_a_colour(history, materialized):
    figures = _figures(_report(history).read_text(encoding="utf-8"))
    assert figures.keys() == CHARTS.keys()
    for key, (traces, layout) in figures.items():
        colours = [_colour(trace) for trace in traces]
        # plotly's own palette repeats after ten series, so every series names its colour.
        assert None not in colours, key
        on_axes = defaultdict(list)
        for trace, colour in zip(traces, colours):
            on_axes[trace.get("xaxis", "x"), trace.get("yaxis", "y")].append(colour)
        for axes, drawn in on_axes.items():
            assert len(set(drawn)) == len(drawn), (key, axes, drawn)
        if layout.get("showlegend", True):
            keyed = [c for trace, c in zip(traces, colours) if trace.get("showlegend", True)]
            assert len(set(keyed)) == len(keyed), (key, keyed)


def _panel_task_types(figure: tuple[list[dict], dict], context: set[str]) -> list[str]:
    """The task type each panel of a small-multiples chart draws, checked against its title."""
    traces, layout = figure
    panels = defaultdict(set)
    for trace in traces:
        panels[trace.get("xaxis", "x")].add(trace["name"])
    own = [names - context for names in panels.values()]
    assert all(len(names) == 1 for names in own)  # one task type per panel...
    task_types = [names.pop() for names in own]
    assert len(set(task_types)) == len(task_types)  # ...and one panel per task type
    assert [note["text"].split(" (")[0] for note in layout["annotations"]] == task_types
    return task_types


def test_task_types_are_told_apart_by_panel_not_by_colour(history, materialized):
    figures = _figures(_report(history).read_text(encoding="utf-8"))
    finished = {task["task_type"] for night in history.served.values()
                for task in night.values() if task["status"] in TERMINAL}
    assert set(_panel_task_types(figures["success"], {"all task types"})) == finished
    assert set(_panel_task_types(figures["failures"], set())) <= finished


def test_analytics_metadata_has_tables_charts_and_flags_regressions(history, materialized):
    def outcome(night):
        result = materialized[night]
        (event,) = [e for e in result.get_asset_materialization_events()
                    if e.asset_key.to_user_string() == "task_analytics"]
        checks = {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data
                  for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
        return {k: v.value for k, v in event.materialization.metadata.items()}, checks

    metadata, checks = outcome(4)
    assert "| task_type | tasks | terminal | success_rate |" in metadata["success_rate_by_type"]
    assert "| observation_id | tasks_listed | new_tasks |" in metadata["daily_summary"]
    assert "Ray job <id> exceeded memory limit of <n> GiB" in metadata["top_failure_reasons"]
    assert metadata["failure_reasons_chart"].startswith("```") and "█" in metadata[
        "failure_reasons_chart"]
    (stuck,) = history.warehouse.query("SELECT count(*) FROM stuck_tasks").rows[0]
    assert outcome("all")[0]["stuck_task_count"] == stuck
    regression = checks["terminal_status_never_regresses"]
    assert regression.passed is False
    assert regression.metadata["regressions"].value == len(history.regressed)
    assert regression.metadata["observation"].value == history.observations[3]
    assert checks["terminal_counts_add_up"].passed
    assert outcome(3)[1]["terminal_status_never_regresses"].passed
