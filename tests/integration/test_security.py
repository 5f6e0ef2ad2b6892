"""The API key never leaks; data never becomes SQL; TLS is verified."""

import inspect
import json
import os
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import orjson
import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter
from dagster._core.instance.ref import InstanceRef

from mixpeek_emulator import EmulatorServer, Faults, TaskStore, running_emulator
from mixpeek_tasks.api.errors import MixpeekError
from mixpeek_tasks.api.paging.keyset import KeysetPaging
from mixpeek_tasks.api.paging.runner import PagingRunner
from mixpeek_tasks.api.transport import MixpeekClient
from mixpeek_tasks.secrets import secret_forms
from mixpeek_tasks.snapshot.export import export_snapshot
from mixpeek_tasks.warehouse.database import Warehouse
from tests.dagster.test_alerts import evaluate_alert
from tests.support import ROOT
from tests.support.webhook import running_receiver

SENTINEL = "sk_test_SENTINEL_d41d8cd98f00b204e9800998ecf8427e"


def materialize(server, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MIXPEEK_API_KEY": SENTINEL, "MIXPEEK_BASE_URL": server.base_url,
           "MIXPEEK_EXPORT_DIR": str(tmp_path / "data"), "DAGSTER_HOME": str(tmp_path / "home"),
           "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "dagster", "asset", "materialize", "-m", "pipelines.definitions",
         "--select", "*"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_the_key_appears_in_no_file_log_or_error(tmp_path):
    (tmp_path / "home").mkdir()
    faults = Faults(rate=0.3, kinds=("503", "429", "reset_mid_body"), seed=2)
    with running_emulator(tasks=1500, seed=3, api_key=SENTINEL, faults=faults) as server:
        ok = materialize(server, tmp_path)
        server.faults = Faults(rate=1.0, kinds=("500",), seed=3)
        exhausted = materialize(server, tmp_path)
        server.faults = Faults()
        server.api_key = "sk_test_rotated_key"
        refused = materialize(server, tmp_path)
    assert ok.returncode == 0, ok.stderr[-3000:]
    assert exhausted.returncode != 0 and "gave up after" in exhausted.stderr
    assert refused.returncode != 0 and "401" in refused.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in written) and any(
        p.name == "warehouse.duckdb" for p in written)
    leaks = [str(p) for p in written if SENTINEL.encode() in p.read_bytes()]
    assert leaks == []
    for run in (ok, exhausted, refused):
        assert SENTINEL not in run.stdout + run.stderr


HOSTILE = 'x"; DROP TABLE tasks; --'


def test_hostile_keys_and_values_stay_data(tmp_path):
    with running_emulator(tasks=50, seed=4) as server:
        record = {"task_id": "0-hostile", "task_type": HOSTILE, "status": "FAILED'); --",
                  "error": "'; DELETE FROM task_snapshots; --",
                  "additional_data": {HOSTILE: 1, "batch_id": "b'; --", "a.b c\u00e9": [HOSTILE]},
                  HOSTILE: "top level"}
        server.store.add_record(record)
        with MixpeekClient("k", server.base_url) as client:
            export_snapshot(client, tmp_path / "parquet")
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    warehouse.load()
    warehouse.build_views()
    row = warehouse.query(
        "SELECT task_type, status, error, batch_id, additional_data_json, extra_json"
        " FROM tasks WHERE task_id = $id", {"id": "0-hostile"}).rows[0]
    assert row[:4] == (HOSTILE, "FAILED'); --", "'; DELETE FROM task_snapshots; --", "b'; --")
    assert orjson.loads(row[4]) == record["additional_data"]
    assert orjson.loads(row[5]) == {HOSTILE: "top level"}
    assert warehouse.query("SELECT count(*) FROM tasks").rows[0][0] == 51
    assert warehouse.query("SELECT count(*) FROM task_success_rate WHERE task_type = $t",
                           {"t": HOSTILE}).rows[0][0] == 1


@pytest.fixture
def tls_emulator(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    server = EmulatorServer(("127.0.0.1", 0), TaskStore.generate(10, 1))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def test_an_unverifiable_certificate_fails_at_once_without_sending_the_key(tls_emulator):
    url = tls_emulator.base_url.replace("http://", "https://")
    client = MixpeekClient(SENTINEL, url)
    with pytest.raises(MixpeekError, match="could not be verified") as raised:
        list(PagingRunner.of(client).pages(KeysetPaging()))
    assert client.requests_sent == 1 and tls_emulator.request_log == []
    assert SENTINEL not in str(raised.value)


def test_tls_verification_cannot_be_switched_off():
    parameters = inspect.signature(MixpeekClient).parameters
    assert not {"verify", "insecure", "ssl_verify"} & set(parameters)


PASTED = {"newline": SENTINEL + "\n", "crlf": SENTINEL + "\r\n", "tab": SENTINEL + "\t",
          "leading space": " " + SENTINEL}


def headless_run(server, tmp_path: Path, key: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIXPEEK_", "DAGSTER_"))}
    env.update({"MIXPEEK_API_KEY": key, "MIXPEEK_BASE_URL": server.base_url,
                "MIXPEEK_EXPORT_DIR": str(tmp_path / "data"),
                "DAGSTER_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT)})
    return subprocess.run([sys.executable, "-m", "pipelines.run", *args],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("pasted", PASTED.values(), ids=PASTED)
def test_a_pasted_key_is_used_trimmed_and_leaves_no_trace(tmp_path, pasted, monkeypatch):
    with running_emulator(tasks=300, seed=3, api_key=SENTINEL) as server:
        ok = headless_run(server, tmp_path, pasted)
        server.api_key = "sk_test_rotated_key"
        refused = headless_run(server, tmp_path, pasted, "--debug")
    assert ok.returncode == 0, ok.stderr[-3000:]
    assert ok.stdout.count("MIXPEEK_API_KEY had whitespace around the key") == 1
    assert refused.returncode == 1 and "401" in refused.stderr
    # The failed observation's alert, posted from what the run history holds, as the sensor does.
    monkeypatch.setenv("MIXPEEK_API_KEY", pasted)
    with running_receiver() as receiver, DagsterInstance.from_ref(
            InstanceRef.from_dir(str(tmp_path / "home"))) as instance:
        monkeypatch.setenv("MIXPEEK_ALERT_WEBHOOK_URL", receiver.url)
        (run,) = instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.FAILURE]))
        (failure,) = instance.all_logs(run.run_id, of_type=DagsterEventType.RUN_FAILURE)
        evaluate_alert(run, failure.dagster_event, instance)
    (alert,) = receiver.bodies
    assert "401" in alert["text"]
    forms = {form.encode() for form in secret_forms(pasted)}
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in written)  # the run history is among them
    assert [str(p) for p in written if any(form in p.read_bytes() for form in forms)] == []
    said = (ok.stdout + ok.stderr + refused.stdout + refused.stderr + json.dumps(alert)).encode()
    assert not any(form in said for form in forms)
