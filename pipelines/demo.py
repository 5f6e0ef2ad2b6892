"""`make demo`: one nightly export, end to end, then a short report (`--debug`: a failed run's
whole error). Dagster records the run in ./.dagster_home, which `make ui` opens.

With MIXPEEK_API_KEY set it exports the real account; without it, it starts the built-in
emulator on a free port, points the export at it and stops it afterwards.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from mixpeek_tasks import settings
from mixpeek_tasks.preflight import warehouse_file
from mixpeek_tasks.reporting.html import REPORT_FILE
from mixpeek_tasks.reporting.text import demo_report
from mixpeek_tasks.warehouse.database import Warehouse

EMULATOR_TASKS = 20_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the emulator exited early with code {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"the emulator did not listen on port {port} within {timeout:.0f}s")


def main() -> int:
    env = dict(os.environ)  # the run's, with the demo's settings
    export_dir = Path(settings.EXPORT_DIR.read(env)).resolve()
    env[settings.EXPORT_DIR.name] = str(export_dir)
    dagster_home = Path(settings.DAGSTER_HOME.read(env) or ".dagster_home").resolve()
    env[settings.DAGSTER_HOME.name] = str(dagster_home)
    dagster_home.mkdir(parents=True, exist_ok=True)
    instance_config = dagster_home / "dagster.yaml"
    if not instance_config.exists():
        # A demo's output is the export and its report, not Dagster's first-run banners.
        instance_config.write_text("telemetry:\n  enabled: false\n")
    emulator = None
    if not settings.API_KEY.is_set(env):
        port = _free_port()
        emulator = subprocess.Popen(
            [sys.executable, "-m", "mixpeek_emulator", "--port", str(port),
             "--tasks", str(EMULATOR_TASKS), "--seed", "7", "--churn", "2"],
            stdout=subprocess.DEVNULL)
        _wait_for_port(port, emulator)
        env[settings.API_KEY.name] = "emulator-demo-key"
        env[settings.BASE_URL.name] = f"http://127.0.0.1:{port}"
        print(f"No MIXPEEK_API_KEY: exporting the built-in emulator's {EMULATOR_TASKS:,} tasks "
              f"at {env[settings.BASE_URL.name]}", flush=True)
    try:
        # The headless run prints progress, and on failure one line saying why (pipelines/run.py).
        run = subprocess.run([sys.executable, "-m", "pipelines.run", *sys.argv[1:]], env=env)
    finally:
        if emulator is not None:
            emulator.terminate()
            emulator.wait(timeout=30)
    if run.returncode != 0:
        print("A step that failed left what it writes as it was.", file=sys.stderr)
        return run.returncode
    print()
    warehouse = Warehouse(warehouse_file(str(export_dir), settings.WAREHOUSE.read(env)))
    print(demo_report(warehouse, str(export_dir / "parquet")))
    # What to open next: the page the run's task_report wrote, the query tool (whose defaults
    # find this warehouse from the same folder and settings) and the UI on this run's instance.
    python = Path(sys.executable)
    if python.is_relative_to(Path.cwd()):
        python = python.relative_to(Path.cwd())
    ui = ("make ui" if dagster_home == Path(".dagster_home").resolve()
          else f"DAGSTER_HOME={dagster_home} dagster dev")
    print(f"Report:   {warehouse.path.parent / 'report' / REPORT_FILE}")
    print(f'Query:    {python} -m mixpeek_tasks.reporting.query "SELECT * FROM daily_summary"')
    print(f"UI:       {ui}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
