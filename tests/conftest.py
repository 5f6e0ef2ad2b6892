from collections.abc import Iterator

import pytest

from mixpeek_emulator import EmulatorServer, running_emulator
from tests.support.multiday import History, build_history


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with running_emulator(tasks=3000, seed=11) as server:
        yield server


@pytest.fixture(scope="session")
def history(tmp_path_factory) -> History:
    """The five-night history (tests/support/multiday.py), built once for every test that
    reads it; a test that changes the warehouse puts it back as it found it."""
    return build_history(tmp_path_factory.mktemp("history"))
