"""Long-running processes a test starts, each in its own process group, with its output in a
file; every group is ended when the block ends, even when the test fails."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def wait_for(check: Callable[[], T | None], timeout: float, what: str,
             interval: float = 0.25) -> T:
    """The first truthy answer of `check`, asked every `interval` seconds for at most
    `timeout` seconds; TimeoutError naming `what` after that."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f}s")
        time.sleep(interval)


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (children, their children...), read from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name in parentheses may hold spaces: the fields after it are fixed.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found.extend(children)
        frontier = children
    return found


class ProcessGroups:
    """Start named processes; `stop` ends one's whole group (its children too)."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        with open(self.log_dir / f"{name}.log", "ab") as log:
            self.running[name] = subprocess.Popen(argv, env=env, cwd=cwd, stdout=log,
                                                  stderr=subprocess.STDOUT,
                                                  start_new_session=True)

    def alive(self, name: str) -> bool:
        return self.running[name].poll() is None

    def stop(self, name: str, sig: int = signal.SIGTERM, grace: float = 15.0) -> None:
        """`sig` to the group, then SIGKILL to what is left of it after `grace` seconds."""
        process = self.running.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        # Children that outlived their leader are still in its group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def log_tail(self, name: str, lines: int = 40) -> str:
        text = (self.log_dir / f"{name}.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def process_groups(log_dir: Path) -> Iterator[ProcessGroups]:
    """ProcessGroups whose every group is stopped when the block ends; on a failure, the end
    of each process's output is printed (pytest shows it with the failure)."""
    groups = ProcessGroups(log_dir)
    failed = True
    try:
        yield groups
        failed = False
    finally:
        for name in reversed(list(groups.running)):
            groups.stop(name)
        if failed:
            for log in sorted(log_dir.glob("*.log")):
                print(f"--- {log.stem} (last lines)\n{groups.log_tail(log.stem)}")
