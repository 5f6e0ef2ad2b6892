"""deploy/ as Dagster's docs lay it out: Postgres, a code server (gRPC) that loads the project and
runs the exports, and a webserver and a daemon that reach the code only through workspace.yaml.

The files are checked as they are written (each process gets only the settings it uses, each
has a health check, staging and exports outlive a container). No Docker here, so the layout is
then started as processes, with the commands, health checks, environments and instance settings
taken from deploy/: a run queued through the webserver's GraphQL API succeeds; a run whose
worker is killed while its load holds the `mixpeek_duckdb` slot is marked failed and its slot
freed by run monitoring; a run that dies with the code server (a restart) is failed by run
monitoring and its slot freed; the next run takes the slot and succeeds."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import httpx
import yaml
from dagster import (
    AssetKey,
    AssetsDefinition,
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
)
from packaging.requirements import Requirement

from assets.warehouse import WAREHOUSE_POOL, warehouse_tasks
from mixpeek_emulator import running_emulator
from mixpeek_tasks.preflight import warehouse_from_environment
from pipelines.definitions import defs
from tests.support.postgres import Postgres, free_port
from tests.support.processes import ProcessGroups, descendants, process_groups, wait_for

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
DAGSTER_SERVICES = ("code-server", "webserver", "daemon")
INSTANCE_SETTINGS = {"DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER",
                     "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB"}
SECRETS = {"MIXPEEK_API_KEY", "AWS_SECRET_ACCESS_KEY", "MIXPEEK_ALERT_WEBHOOK_URL"}
# The compose ports, replaced by free ones when the layout runs here.
CODE_PORT, WEB_PORT = "4000", "3000"
BIN = Path(sys.executable).parent
# The test's run monitoring frees a dead run's slot this long after its end (production: 60).
SLOT_GRACE_SECONDS = 5
# Bounds, not expectations: on a quiet machine the layout starts in ~15 s and a run takes ~20 s.
STARTUP_SECONDS = 120
RUN_SECONDS = 180


def env_file_names(path: Path) -> set[str]:
    """The variables an env file sets or documents (commented-out `# NAME=` lines too)."""
    return {m.group(1) for m in re.finditer(r"^#?\s*([A-Z][A-Z0-9_]*)=", path.read_text(), re.M)}


def unit(name: str) -> dict[str, list[str]]:
    """A systemd unit's [Service] settings; a key given twice keeps both values."""
    settings: dict[str, list[str]] = {}
    section = None
    for line in (DEPLOY / "systemd" / name).read_text().splitlines():
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def unit_requirements(name: str) -> str:
    """The units a unit is ordered after or pulls in."""
    text = (DEPLOY / "systemd" / name).read_text()
    return " ".join(re.findall(r"^(?:After|Wants|Requires)=(.*)$", text, re.M))


def unit_env(settings: dict[str, list[str]]) -> dict[str, str]:
    return dict(value.split("=", 1) for value in settings.get("Environment", []))


def dockerfile_env(name: str) -> dict[str, str]:
    """The ENV block of a deploy/ Dockerfile."""
    text = (DEPLOY / name).read_text().replace("\\\n", " ")
    block = re.search(r"^ENV (.*)$", text, re.M).group(1)
    return dict(word.split("=", 1) for word in shlex.split(block))


def mount(volume: str) -> tuple[str, str]:
    """A compose short-syntax volume as (target, source); either may be a `${...:?...}`."""
    source, target = re.findall(r"(?:\$\{[^}]*\}|[^:])+", volume)[:2]
    return target, source


def option(argv: list[str], *names: str) -> str:
    return next(argv[i + 1] for i, word in enumerate(argv) if word in names)


# --- the files -------------------------------------------------------------------------------

def test_the_webserver_and_the_daemon_reach_the_code_through_the_code_servers_port():
    code_server = SERVICES["code-server"]["command"]
    assert code_server[:3] == ["dagster", "code-server", "start"]
    for workspace, host, port in [
            (DEPLOY / "workspace.yaml", "code-server", option(code_server, "-p")),
            (DEPLOY / "systemd" / "workspace.yaml", "localhost",
             option(unit("mixpeek-dagster-code-server.service")["ExecStart"][0].split(), "-p"))]:
        locations = yaml.safe_load(workspace.read_text())["load_from"]
        assert locations == [{"grpc_server": {
            "host": host, "port": int(port),
            "location_name": option(code_server, "--location-name")}}], workspace
    for name in ("webserver", "daemon"):
        assert "workspace.yaml" in SERVICES[name]["command"]
        # Their image holds Dagster only: the project's code is not there to import.
        assert SERVICES[name]["build"]["dockerfile"] == "deploy/Dockerfile.dagster"
        assert SERVICES[name].get("depends_on", {}).get("code-server") == {
            "condition": "service_healthy"}
    dagster_image = (DEPLOY / "Dockerfile.dagster").read_text()
    assert "COPY pipelines" not in dagster_image and "pip install ." not in dagster_image
    for name in ("mixpeek-dagster-webserver.service", "mixpeek-dagster-daemon.service"):
        exec_start = unit(name)["ExecStart"][0]
        assert option(exec_start.split(), "-w").endswith("/workspace.yaml"), exec_start
        assert "mixpeek-dagster-code-server.service" in unit_requirements(name)


def test_each_process_gets_only_the_settings_it_uses():
    # Every Dagster process opens the instance, whose storage is Postgres; nothing else reaches
    # the webserver or the daemon.
    for name in ("webserver", "daemon"):
        assert set(SERVICES[name]["environment"]) == INSTANCE_SETTINGS, name
        assert "env_file" not in SERVICES[name], name
    code_server = SERVICES["code-server"]
    assert set(code_server["environment"]) == INSTANCE_SETTINGS | {"MIXPEEK_EXPORT_DIR"}
    assert code_server["env_file"] == "code-server.env"
    assert "MIXPEEK_API_KEY" in env_file_names(DEPLOY / "code-server.env.example")
    assert not SECRETS & env_file_names(DEPLOY / ".env.example")
    assert {".env", "code-server.env"} <= set((DEPLOY / ".gitignore").read_text().split())
    # Out of the code server's build context; Dockerfile.dagster's takes only three files.
    assert "deploy/code-server.env" in (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    # The plain host: the same split between two env files.
    units = {name: unit(f"mixpeek-dagster-{name}.service") for name in DAGSTER_SERVICES}
    for name, settings in units.items():
        files = settings["EnvironmentFile"]
        assert "/etc/mixpeek-task-history/dagster.env" in files, name
        assert ("/etc/mixpeek-task-history/code-server.env" in files) == (name == "code-server")
        assert not SECRETS & set(unit_env(settings)), name
    assert INSTANCE_SETTINGS == env_file_names(DEPLOY / "systemd" / "dagster.env.example")


def test_every_process_has_a_health_check():
    checks = {name: SERVICES[name]["healthcheck"]["test"] for name in SERVICES}
    assert checks["code-server"][1:4] == ["dagster", "api", "grpc-health-check"]
    assert option(checks["code-server"], "-p") == option(SERVICES["code-server"]["command"], "-p")
    assert checks["daemon"][1:] == ["dagster-daemon", "liveness-check"]
    assert f"localhost:{option(SERVICES['webserver']['command'], '-p')}/server_info" in " ".join(
        checks["webserver"])
    assert "pg_isready" in " ".join(checks["postgres"])


def test_staging_and_exports_outlive_the_container_and_the_host_can_read_the_exports():
    image = dockerfile_env("Dockerfile")
    mounts = dict(mount(volume) for volume in SERVICES["code-server"]["volumes"])
    assert mounts[image["MIXPEEK_STAGING_DIR"]] in COMPOSE["volumes"]
    # The exports are a host folder (a bind mount), not a named volume only root can open.
    # The exports are a host folder (a bind mount, not a named volume only root can open), at
    # the same path inside: the warehouse's views name the Parquet tree by absolute path.
    exports = SERVICES["code-server"]["environment"]["MIXPEEK_EXPORT_DIR"]
    assert exports.startswith("${EXPORTS_HOST_DIR:?") and mounts[exports] == exports
    assert "EXPORTS_HOST_DIR" in env_file_names(DEPLOY / ".env.example")
    code_server = unit("mixpeek-dagster-code-server.service")
    staging = unit_env(code_server)["MIXPEEK_STAGING_DIR"]
    # Under the unit's StateDirectory (/var/lib/<name>), never under a private /tmp.
    assert staging.startswith("/var/lib/" + code_server["StateDirectory"][0].split()[0] + "/")
    instance = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    monitoring = instance["run_monitoring"]
    assert monitoring["enabled"] and monitoring["free_slots_after_run_end_seconds"] > 0
    assert 0 < monitoring["max_runtime_seconds"] <= 24 * 3600  # before the next night


def test_both_images_install_one_dagster_release_within_the_projects_ranges():
    pins = {Requirement(line).name: Requirement(line) for line in
            (DEPLOY / "constraints.txt").read_text().splitlines()
            if line and not line.startswith("#")}
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    for requirement in map(Requirement, project):
        if requirement.name in pins:
            (pinned,) = pins[requirement.name].specifier
            assert requirement.specifier.contains(pinned.version), (requirement, pinned)
    patch = {str(pin.specifier).rsplit(".", 1)[1] for pin in pins.values()}
    assert len(patch) == 1 and {"dagster", "dagster-webserver", "dagster-postgres"} <= set(pins)


# --- the layout, as processes ----------------------------------------------------------------

@dataclass(frozen=True)
class Layout:
    """Where the processes of one test listen and keep their state."""

    home: Path
    code_port: int
    web_port: int
    export_dir: Path
    staging_dir: Path

    def argv(self, words: list[str]) -> list[str]:
        """A compose command or health check as this machine runs it: the venv's executables,
        this test's ports, loopback instead of the container's every address."""
        local = {CODE_PORT: str(self.code_port), WEB_PORT: str(self.web_port),
                 "0.0.0.0": "127.0.0.1"}
        words = [local.get(word, word).replace(f":{WEB_PORT}/", f":{self.web_port}/")
                 for word in words if word != "CMD"]
        return [str(BIN / words[0]), *words[1:]]

    def env(self, service: str, postgres: Postgres, code_server_env: dict[str, str]
            ) -> dict[str, str]:
        """The environment compose gives `service`, with this test's values."""
        env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"),
               "LANG": "C.UTF-8", "DAGSTER_HOME": str(self.home)}
        values = postgres.env() | {"MIXPEEK_EXPORT_DIR": str(self.export_dir)}
        env |= {name: values[name] for name in SERVICES[service]["environment"]}
        if service == "code-server":
            # The image's setting, code-server.env, and the project from this tree.
            env |= {"PYTHONPATH": str(REPO), "MIXPEEK_STAGING_DIR": str(self.staging_dir),
                    **code_server_env}
        return env


def render_instance(layout: Layout) -> None:
    """deploy/dagster.yaml and deploy/workspace.yaml in the test's DAGSTER_HOME: the same
    settings, with the daemon's intervals short enough for a test."""
    instance = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    instance["run_monitoring"] |= {"poll_interval_seconds": 1,
                                   "free_slots_after_run_end_seconds": SLOT_GRACE_SECONDS}
    instance["run_coordinator"]["config"] = {"dequeue_interval_seconds": 1}
    (layout.home / "dagster.yaml").write_text(yaml.safe_dump(instance))
    workspace = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())
    for location in workspace["load_from"]:
        location["grpc_server"] |= {"host": "127.0.0.1", "port": layout.code_port}
    (layout.home / "workspace.yaml").write_text(yaml.safe_dump(workspace))



class GraphQL:
    def __init__(self, url: str):
        self.client = httpx.Client(base_url=url, timeout=30)

    def __call__(self, query: str, **variables) -> dict:
        answer = self.client.post("/graphql", json={"query": query, "variables": variables})
        answer.raise_for_status()
        body = answer.json()
        assert "errors" not in body, body["errors"]
        return body["data"]


REPOSITORIES = """{ repositoriesOrError { ... on RepositoryConnection { nodes {
    name location { name } jobs { name } schedules { pipelineName }
    partitionSets { pipelineName } } } ... on PythonError { message } } }"""
LATEST_PARTITION = """query ($selector: PipelineSelector!) { pipelineOrError(params: $selector) {
    ... on Pipeline { partitionKeysOrError(reverse: true, limit: 1) { partitionKeys } } } }"""
PARTITION_RUN = """query ($selector: PipelineSelector!, $key: String!) {
    pipelineOrError(params: $selector) { ... on Pipeline { partition(partitionName: $key) {
      runConfigOrError { ... on PartitionRunConfig { yaml } ... on PythonError { message } }
      tagsOrError { ... on PartitionTags { results { key value } }
                    ... on PythonError { message } } } } } }"""
LAUNCH = """mutation ($params: ExecutionParams!) { launchRun(executionParams: $params) {
    __typename ... on LaunchRunSuccess { run { runId } } ... on Error { message }
    ... on RunConfigValidationInvalid { errors { message } } } }"""
RUN_STATUS = """query ($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"""


def export_launch(graphql: GraphQL, assets: set[AssetKey] | None = None) -> dict:
    """Execution params for one run of the export, read from the code location: the job the
    schedule runs (else the only job), all of it or only `assets` (with just the checks their
    own steps compute), and when it is partitioned, its latest partition's run config and tags,
    as the UI's launchpad would take them."""
    (repo,) = graphql(REPOSITORIES)["repositoriesOrError"]["nodes"]
    jobs = ([s["pipelineName"] for s in repo["schedules"]]
            or [j["name"] for j in repo["jobs"] if not j["name"].startswith("__")])
    job = jobs[0]
    selector = {"repositoryLocationName": repo["location"]["name"],
                "repositoryName": repo["name"], "pipelineName": job}
    params = {"selector": dict(selector), "runConfigData": {}, "executionMetadata": {"tags": []}}
    if assets:
        # The catalog's asset specs (assets/catalog.py) have no steps, so no checks of theirs.
        inseparable = [check for definition in defs.assets
                       if isinstance(definition, AssetsDefinition) and assets & definition.keys
                       for check in definition.check_keys]
        params["selector"] |= {
            "assetSelection": [{"path": key.path} for key in assets],
            "assetCheckSelection": [{"assetKey": {"path": check.asset_key.path},
                                     "name": check.name} for check in inseparable]}
    if job in {p["pipelineName"] for p in repo["partitionSets"]}:
        keys = graphql(LATEST_PARTITION, selector=selector)["pipelineOrError"][
            "partitionKeysOrError"]["partitionKeys"]
        assert keys, f"job {job} is partitioned but has no partition to launch"
        partition = graphql(PARTITION_RUN, selector=selector, key=keys[0])[
            "pipelineOrError"]["partition"]
        params["runConfigData"] = yaml.safe_load(partition["runConfigOrError"]["yaml"]) or {}
        params["executionMetadata"]["tags"] = partition["tagsOrError"]["results"]
    return params


def launch(graphql: GraphQL, params: dict) -> str:
    result = graphql(LAUNCH, params=params)["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", result
    return result["run"]["runId"]


def status_of(graphql: GraphQL, run_id: str) -> str:
    return graphql(RUN_STATUS, id=run_id)["runOrError"]["status"]


def finished(graphql: GraphQL, run_id: str) -> Callable[[], str | None]:
    def check() -> str | None:
        status = status_of(graphql, run_id)
        return status if status in {"SUCCESS", "FAILURE", "CANCELED"} else None
    return check


def healthy(layout: Layout, service: str, env: dict[str, str]) -> Callable[[], bool]:
    """The service's compose health check, run here: True when it exits 0."""
    argv = layout.argv(SERVICES[service]["healthcheck"]["test"])

    def check() -> bool:
        return subprocess.run(argv, env=env, capture_output=True, timeout=60).returncode == 0
    return check


def run_worker_pid(instance: DagsterInstance, run_id: str) -> int | None:
    """The pid the run worker logged when it started ("Started process for run (pid: N).")."""
    for event in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        found = re.search(r"Started process for run \(pid: (\d+)\)", event.message or "")
        if found:
            return int(found.group(1))
    return None


def claimed_by(instance: DagsterInstance) -> list[str]:
    """The runs holding a slot of the warehouse's pool."""
    info = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
    return [slot.run_id for slot in info.claimed_slots]


@contextlib.contextmanager
def load_holding_the_slot(graphql: GraphQL, instance: DagsterInstance, load: dict
                          ) -> Iterator[str]:
    """A run of `load` whose load step holds the pool slot for the block: the test holds the
    warehouse as another writer would, so the load waits for it."""
    with warehouse_from_environment().files.locked():
        run_id = launch(graphql, load)
        wait_for(lambda: run_id in claimed_by(instance), RUN_SECONDS,
                 f"run {run_id}'s load claiming the pool slot")
        yield run_id


def failure_messages(instance: DagsterInstance, run_id: str, word: str) -> list[str]:
    """The first lines of the run's log messages that hold `word`."""
    return [event.message.splitlines()[0][:140] for event in instance.all_logs(run_id)
            if event.message and word in event.message]


def rows_per_object(warehouse: Path) -> dict[str, int]:
    """Every table and view of the warehouse file with its row count, opened read-only as a BI
    tool on the host would (views over the Parquet tree included)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = [row[0] for row in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            " ORDER BY table_name").fetchall()]
        return {name: con.execute(
            'SELECT count(*) FROM "' + name.replace('"', '""') + '"').fetchone()[0]
            for name in names}


def start_code_server(groups: ProcessGroups, layout: Layout, env: dict[str, str]) -> None:
    groups.start("code-server", layout.argv(SERVICES["code-server"]["command"]), env,
                 cwd=layout.home)
    wait_for(healthy(layout, "code-server", env), STARTUP_SECONDS,
             "the code server's grpc-health-check", interval=1)


def start_layout(groups: ProcessGroups, layout: Layout, envs: dict[str, dict[str, str]]) -> None:
    """The code server, then the daemon and the webserver (compose's depends_on order), each
    waited for with its own health check."""
    start_code_server(groups, layout, envs["code-server"])
    for service in ("daemon", "webserver"):
        groups.start(service, layout.argv(SERVICES[service]["command"]), envs[service],
                     cwd=layout.home)
    wait_for(healthy(layout, "webserver", envs["webserver"]), STARTUP_SECONDS,
             "the webserver's /server_info", interval=1)
    wait_for(healthy(layout, "daemon", envs["daemon"]), STARTUP_SECONDS,
             "the daemon's liveness-check", interval=2)


def test_the_layout_runs_an_export_and_recovers_the_pool_slot_from_dead_runs(
        tmp_path, postgres, monkeypatch):
    layout = Layout(home=tmp_path / "dagster_home", code_port=free_port(), web_port=free_port(),
                    export_dir=tmp_path / "data", staging_dir=tmp_path / "staging")
    layout.home.mkdir()
    render_instance(layout)
    for name, value in {**postgres.env(), "DAGSTER_HOME": str(layout.home),
                        "MIXPEEK_EXPORT_DIR": str(layout.export_dir)}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MIXPEEK_WAREHOUSE", raising=False)
    logs = tmp_path / "logs"
    logs.mkdir()

    with running_emulator(tasks=500, seed=21) as emulator, \
            process_groups(logs) as groups, \
            DagsterInstance.from_config(str(layout.home)) as instance:
        code_server_env = {"MIXPEEK_API_KEY": "sk_test_layout",
                           "MIXPEEK_BASE_URL": emulator.base_url}
        envs = {service: layout.env(service, postgres, code_server_env)
                for service in DAGSTER_SERVICES}
        started = time.monotonic()
        start_layout(groups, layout, envs)
        took = {"start": time.monotonic() - started}
        graphql = GraphQL(f"http://127.0.0.1:{layout.web_port}")
        params = export_launch(graphql)
        # The load and what it loads: enough to take the pool slot, without the other steps.
        load = export_launch(graphql, {*warehouse_tasks.keys,
                                       *warehouse_tasks.asset_deps[warehouse_tasks.key]})

        first = launch(graphql, params)
        assert wait_for(finished(graphql, first), RUN_SECONDS, "the first run") == "SUCCESS"
        took["run 1"] = time.monotonic() - started - sum(took.values())

        # The run worker dies (with the step it started), the code server lives on: the code
        # server fails the run; the slot its load held is freed by run monitoring.
        with load_holding_the_slot(graphql, instance, load) as second:
            worker = run_worker_pid(instance, second)
            doomed = [worker, *descendants(worker)]
            for pid in doomed:
                os.kill(pid, signal.SIGKILL)
            assert wait_for(finished(graphql, second), 30, "the killed run's end") == "FAILURE"
            held_after_failure = second in claimed_by(instance)
        wait_for(lambda: not claimed_by(instance), SLOT_GRACE_SECONDS + 20,
                 "run monitoring freeing the killed run's slot")
        took["run 2 to its freed slot"] = time.monotonic() - started - sum(took.values())

        # The code server dies with the run in it (a restart) and comes back: nobody is left to
        # report the run, which stays STARTED until run monitoring's max runtime fails it. The
        # test brings those hours forward by lowering the run's own limit (its
        # dagster/max_runtime tag) once the server is back.
        with load_holding_the_slot(graphql, instance, load) as third:
            groups.stop("code-server", signal.SIGKILL, grace=0)
            start_code_server(groups, layout, envs["code-server"])
            stale = status_of(graphql, third)
            instance.add_run_tags(third, {"dagster/max_runtime": "1"})
            assert wait_for(finished(graphql, third), 60, "the orphaned run's end") == "FAILURE"
        wait_for(lambda: not claimed_by(instance), SLOT_GRACE_SECONDS + 20,
                 "run monitoring freeing the orphaned run's slot")
        took["run 3 to its freed slot"] = time.monotonic() - started - sum(took.values())

        fourth = launch(graphql, load)
        assert wait_for(finished(graphql, fourth), RUN_SECONDS, "the fourth run") == "SUCCESS"
        took["run 4"] = time.monotonic() - started - sum(took.values())

        # A BI tool on the host: the published file, read-only, while the layout runs.
        readable = rows_per_object(layout.export_dir / "warehouse.duckdb")
        killed = failure_messages(instance, second, "SIGKILL")
        timed_out = failure_messages(instance, third, "maximum runtime")
        runs = {r.run_id: r.status for r in instance.get_runs()}
        assert {runs[first], runs[fourth]} == {DagsterRunStatus.SUCCESS}
        assert runs[second] == runs[third] == DagsterRunStatus.FAILURE
        assert killed, "the failed run's log says its worker was killed"
        # Still held when the run was seen failed: run monitoring, not the run, gave it back.
        assert held_after_failure
        assert stale == "STARTED" and timed_out
        assert not claimed_by(instance)
        assert sum(readable.values()) > 0, readable
        for service in DAGSTER_SERVICES:
            assert groups.alive(service), groups.log_tail(service)

    partition = {t["key"]: t["value"] for t in params["executionMetadata"]["tags"]}
    loaded = "+".join(sorted("/".join(a["path"]) for a in load["selector"]["assetSelection"]))
    print(f"job {params['selector']['pipelineName']} {partition or '(unpartitioned)'}\n"
          f"  run 1 (whole job) {first[:8]}: SUCCESS\n"
          f"  run 2 ({loaded}) {second[:8]}: worker pid {worker} and {len(doomed) - 1} step"
          f" process(es) SIGKILLed while holding the {WAREHOUSE_POOL} slot -> FAILURE;"
          f" slot still held at failure: {held_after_failure}; freed by run monitoring\n"
          f"  its log: {killed[0]}\n"
          f"  run 3 ({loaded}) {third[:8]}: code server SIGKILLed with it and restarted; the run"
          f" still {stale} after the restart -> FAILURE by run monitoring; slot freed\n"
          f"  its log: {timed_out[0]}\n"
          f"  run 4 ({loaded}) {fourth[:8]}: SUCCESS\n"
          f"  read-only from the host: {len(readable)} tables and views answer, e.g. "
          f"{dict(list(readable.items())[:4])}\n"
          f"  seconds: " + ", ".join(f"{phase} {seconds:.1f}" for phase, seconds in took.items()))
