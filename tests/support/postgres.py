"""A throwaway Postgres server for tests of the production instance (deploy/dagster.yaml).

Debian's server (`apt-get install postgresql`, which .ci/run does) lives in
/usr/lib/postgresql/<major>/bin, not on PATH; it is started on a free loopback port with trust
authentication, and stopped and deleted when the block ends."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2  # installed with dagster-postgres


class PostgresUnavailable(RuntimeError):
    """This machine cannot run a Postgres server; the message says why and what to install."""


def postgres_bin() -> Path | None:
    """The newest of Debian's /usr/lib/postgresql/<major>/bin, or None."""
    found = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "pg_ctl").exists()]
    return max(found, default=None,
               key=lambda p: [int(n) for n in p.parent.name.split(".") if n.isdigit()])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Postgres:
    port: int
    user: str = "dagster"
    db: str = "dagster"
    host: str = "127.0.0.1"

    def connect(self):
        return psycopg2.connect(host=self.host, port=self.port, user=self.user, dbname=self.db)

    def env(self) -> dict[str, str]:
        """What deploy/dagster.yaml reads; trust authentication ignores the password."""
        return {"DAGSTER_PG_HOST": self.host, "DAGSTER_PG_PORT": str(self.port),
                "DAGSTER_PG_USER": self.user, "DAGSTER_PG_PASSWORD": "unused",
                "DAGSTER_PG_DB": self.db}


@contextlib.contextmanager
def running_postgres() -> Iterator[Postgres]:
    """A server with an empty database, for the block; PostgresUnavailable when it cannot run."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise PostgresUnavailable("Postgres server binaries not installed"
                                  " (/usr/lib/postgresql/*/bin/pg_ctl): apt-get install postgresql")
    # Postgres refuses to run as root: as root, run it as Debian's `postgres` user.
    as_user: list[str] = []
    owner = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresUnavailable("running as root and there is no `postgres` user to run"
                                      " Postgres as") from None
        as_user = ["runuser", "-u", "postgres", "--"]
    # Not under pytest's tmp_path: as root that is 0700 and the postgres user cannot enter it.
    root = Path(tempfile.mkdtemp(prefix="mixpeek-pg-"))
    if owner is not None:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    data = root / "data"

    def pg(*args: str) -> None:
        done = subprocess.run([*as_user, *args], capture_output=True, text=True, timeout=60)
        if done.returncode:
            raise RuntimeError(f"{Path(args[0]).name} failed: {done.stderr or done.stdout}")

    server = Postgres(port=free_port())
    started = False
    try:
        pg(str(bin_dir / "initdb"), "-D", str(data), "-U", server.user, "--auth=trust",
           "-E", "UTF8", "--no-sync")
        pg(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "postgres.log"), "-w",
           "-t", "30", "-o", f"-p {server.port} -k {root} -c listen_addresses={server.host}"
                             " -c fsync=off", "start")
        started = True
        pg(str(bin_dir / "createdb"), "-h", server.host, "-p", str(server.port),
           "-U", server.user, server.db)
        yield server
    finally:
        if started:
            pg(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
