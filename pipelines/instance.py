"""The Dagster instance a headless run records in: `$DAGSTER_HOME` when it is set, else a
temporary one. A DAGSTER_HOME that does not exist is created (and the run says so); one that
cannot be used ends the run in one line naming the variable, not in Dagster's traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dagster import DagsterError, DagsterInstance
from dagster._core.instance.ref import InstanceRef

from mixpeek_tasks.preflight import PreflightError, check_export_dir

ADVICE = "set DAGSTER_HOME to a folder you can write to, or unset it to keep no run history"
# The run command prints the steps' lines itself. Dagster's own copy of a step's stdout and
# stderr runs `tail` and a watcher process in the terminal's process group: Ctrl-C reaches
# them too, and each printed a KeyboardInterrupt traceback over the run's one line.
NO_OUTPUT_CAPTURE = {"compute_logs": {
    "module": "dagster._core.storage.noop_compute_log_manager", "class": "NoOpComputeLogManager"}}


def instance_from(home: str | None, say: Callable[[str], None]) -> DagsterInstance:
    """The instance at `home` (DAGSTER_HOME's value), or an ephemeral one when it is unset;
    PreflightError in one line when `home` cannot hold one."""
    if not home:
        return DagsterInstance.ephemeral()
    path = Path(home).expanduser()
    if not path.is_absolute():
        raise PreflightError(f"DAGSTER_HOME {home!r} is not an absolute path: set it to "
                             f"{path.resolve()}, or unset it to keep no run history")
    existed = path.is_dir()
    # The run history is written there: a folder that takes a file, with no floor on space.
    check_export_dir(path, min_free_bytes=0, what="DAGSTER_HOME folder", variable="DAGSTER_HOME")
    if not existed:
        # Empty, as Dagster asks of a folder meant to hold everything itself (it warns otherwise).
        (path / "dagster.yaml").touch()
        say(f"created the DAGSTER_HOME folder {path}: the run history is kept there")
    try:
        return DagsterInstance.from_ref(InstanceRef.from_dir(str(path),
                                                             overrides=NO_OUTPUT_CAPTURE))
    except DagsterError as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise PreflightError(f"DAGSTER_HOME {home}: {first}; {ADVICE}") from None
