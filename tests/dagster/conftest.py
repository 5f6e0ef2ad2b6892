import contextlib
from collections.abc import Iterator

import pytest

from tests.support.postgres import Postgres, PostgresUnavailable, running_postgres


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    """A Postgres server for the test module (tests/support/postgres.py); skipped, with the
    reason, where this machine cannot run one."""
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(running_postgres())
        except PostgresUnavailable as missing:
            pytest.skip(str(missing))
        yield server
