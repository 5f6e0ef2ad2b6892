from collections.abc import Iterator

import pytest

from pipelines.emulator import EmulatorServer, running_emulator


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with running_emulator(tasks=3000, seed=11) as server:
        yield server
