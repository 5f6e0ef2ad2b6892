"""A person's first hour: each bad input ends `python -m pipelines.run` (and so `make demo`)
with one line that says what to change, no traceback, and never the key."""

import os
import socket
import subprocess
import sys

import pytest

from mixpeek_emulator import running_emulator
from tests.support import ROOT

KEY = "sk_test_first_hour_0123456789"


def _run(tmp_path, *args, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MIXPEEK_", "DAGSTER_"))}
    clean.update({"MIXPEEK_EXPORT_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT), **env})
    return subprocess.run([sys.executable, "-m", "pipelines.run", *args], cwd=tmp_path,
                          env=clean, capture_output=True, text=True, timeout=180)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _assert_one_line(done, expected: str, code: int = 1):
    output = done.stdout + done.stderr
    assert done.returncode == code, output
    first = done.stderr.splitlines()[0]
    assert expected in first, first
    assert "Traceback" not in output and "Stack Trace" not in output, output
    assert KEY not in output


@pytest.mark.parametrize(("args", "env", "expected", "code"), [
    ((), {}, "MIXPEEK_API_KEY is not set", 1),
    (("--date", "2024-13-45"), {}, "'2024-13-45' is not a date", 2),
    (("--date", "2024-12-31"), {}, "2024-12-31 has no stored observation, and it cannot be"
                                   " observed: the service lists tasks as they are now", 2),
    (("--date", "2999-01-01"), {}, "2999-01-01 is in the future, and it cannot be observed", 2),
], ids=["no key", "not a date", "a past date", "a future date"])
def test_bad_input_ends_in_one_line(tmp_path, args, env, expected, code):
    _assert_one_line(_run(tmp_path, *args, **env), expected, code)


def test_an_export_dir_that_cannot_be_written_is_named(tmp_path):
    (tmp_path / "a_file").write_text("")
    done = _run(tmp_path, MIXPEEK_API_KEY=KEY,
                MIXPEEK_EXPORT_DIR=str(tmp_path / "a_file" / "data"))
    _assert_one_line(done, f"the export directory {tmp_path / 'a_file' / 'data'} is not writable")


SECRET = "aws_first_hour_SECRET_0123456789"


@pytest.mark.parametrize(("warehouse", "expected"), [
    (None, "MIXPEEK_EXPORT_DIR is s3://exports/nightly, so DuckDB cannot live beside it: set "
           "MIXPEEK_WAREHOUSE"),
    ("warehouse.duckdb", "the export location s3://exports/nightly/parquet is not writable"),
], ids=["no warehouse", "no S3 endpoint"])
def test_an_s3_export_dir_s_setup_problems_are_named(tmp_path, warehouse, expected):
    env = {"MIXPEEK_API_KEY": KEY, "MIXPEEK_EXPORT_DIR": "s3://exports/nightly",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": SECRET,
           "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": f"http://127.0.0.1:{_closed_port()}"}
    if warehouse:
        env["MIXPEEK_WAREHOUSE"] = str(tmp_path / warehouse)
    done = _run(tmp_path, **env)
    _assert_one_line(done, expected)
    assert SECRET not in done.stdout + done.stderr


def test_a_wrong_key_gives_the_api_s_answer_once(tmp_path):
    with running_emulator(tasks=200, seed=1, api_key="sk_test_the_right_one_987") as server:
        done = _run(tmp_path, MIXPEEK_API_KEY=KEY, MIXPEEK_BASE_URL=server.base_url)
    _assert_one_line(done, "Mixpeek API answered 401 (unauthorized): Invalid or missing API key")
    assert (done.stdout + done.stderr).count("401") == 1


@pytest.mark.slow
def test_nothing_listening_says_which_host_after_how_many_attempts(tmp_path):
    done = _run(tmp_path, MIXPEEK_API_KEY=KEY,
                MIXPEEK_BASE_URL=f"http://127.0.0.1:{_closed_port()}")
    _assert_one_line(done, "cannot connect to 127.0.0.1: 6 attempts over")
    assert "retry" not in done.stdout + done.stderr  # the retries are summed up, not listed


def test_debug_shows_the_whole_error(tmp_path):
    done = _run(tmp_path, "--debug")
    assert done.returncode == 1
    assert "MIXPEEK_API_KEY is not set" in done.stderr.splitlines()[0]
    assert "Failure" in done.stderr and len(done.stderr.splitlines()) > 5


def test_a_key_no_header_can_carry_is_refused_in_one_line(tmp_path):
    done = _run(tmp_path, MIXPEEK_API_KEY=KEY[:8] + "\n" + KEY[8:])
    _assert_one_line(done, "MIXPEEK_API_KEY holds '\\n' at character 9 of 30, which an HTTP "
                           "header cannot carry")
    assert KEY[:8] not in done.stdout + done.stderr and KEY[8:] not in done.stdout + done.stderr


def test_a_dagster_home_that_does_not_exist_is_created_and_said(tmp_path):
    home = tmp_path / "not" / "yet"
    done = _run(tmp_path, DAGSTER_HOME=str(home))
    assert done.stdout.splitlines()[0] == (
        f"created the DAGSTER_HOME folder {home}: the run history is kept there")
    assert home.is_dir() and list(home.rglob("*.db"))  # the failed run is in its history
    # Dagster greets a new instance with its telemetry banner first; the run's line comes last,
    # before the --debug hint.
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "MIXPEEK_API_KEY is not set" in done.stderr.strip().splitlines()[-2]


@pytest.mark.parametrize(("home", "expected"), [
    ("a_file/home", "the DAGSTER_HOME folder {tmp}/a_file/home is not writable (Not a "
                    "directory): set DAGSTER_HOME to a folder you can write to"),
    ("relative", "DAGSTER_HOME 'relative' is not an absolute path: set it to {tmp}/relative"),
], ids=["under a file", "relative"])
def test_a_dagster_home_that_cannot_hold_the_history_ends_in_one_line(tmp_path, home, expected):
    (tmp_path / "a_file").write_text("")
    home = home if home == "relative" else str(tmp_path / home)
    done = _run(tmp_path, MIXPEEK_API_KEY=KEY, DAGSTER_HOME=home)
    _assert_one_line(done, expected.format(tmp=tmp_path))
    assert len(done.stderr.splitlines()) == 1
