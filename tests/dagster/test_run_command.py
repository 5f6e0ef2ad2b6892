"""The headless run command's terminal output: a progress bar redrawn in place on a terminal,
plain lines in a file or a pipe."""

import io
import logging

import pytest

from pipelines.run import _ProgressHandler

LINES = ["paging by keyset: ...",
         "10 pages, 10,000 tasks, 5,000 tasks/s, 10% of 100,000, about 18s left",
         "50 pages, 50,000 tasks, 5,000 tasks/s, 50% of 100,000, about 10s left",
         "reconciled: exact"]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("stream", [_Terminal(), io.StringIO()], ids=["terminal", "file"])
def test_progress_is_a_bar_on_a_terminal_and_lines_elsewhere(stream):
    log = logging.getLogger(f"run-command-{type(stream).__name__}")
    log.addHandler(_ProgressHandler(stream))
    log.propagate = False
    log.setLevel(logging.INFO)
    for line in LINES:
        log.info(line)
    written = stream.getvalue()
    if stream.isatty():
        # The two progress lines share one line, redrawn, ended before the next line.
        assert written.count("\n") == 3
        assert f"\r[{'#' * 15}{'.' * 15}] {LINES[2]}" in written
        assert written.endswith(f"\n{LINES[3]}\n")
    else:
        assert written == "".join(f"{line}\n" for line in LINES)
