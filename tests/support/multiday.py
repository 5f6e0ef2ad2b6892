"""A seeded history of five observations of one emulated account: the input of the history,
view and report tests, which compute their expected figures from `served` (what the API
listed at each observation) independently of the SQL.

The observations are real ones, made seconds apart: each is the account as the emulator holds
it when the export runs, filed under the moment it ran (nothing can choose another date), and
the account moves on between them as it would between nights.

Between nights the account moves on (`churn`), and a script adds what a real account does:
fallback records that lost their batch keys past the 24-hour TTL, fallback records that report
a terminal task as running again, failures with ids in their messages, and task types whose
records carry no timestamps at all (their latency can only be observed between exports).
"""

from __future__ import annotations

import copy
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pyarrow.parquet as pq

from mixpeek_emulator import TaskStore, running_emulator
from mixpeek_tasks.api.transport import MixpeekClient
from mixpeek_tasks.snapshot.export import export_snapshot
from mixpeek_tasks.warehouse.database import Warehouse

OBSERVATIONS = 5
TERMINAL = {"COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED", "CANCELED"}
IN_FLIGHT = {"PENDING", "QUEUED", "IN_PROGRESS", "PROCESSING"}
UNTIMED_TYPES = {"thumbnail", "video_segment", "engine_inference_run"}
UPLOAD_ERROR = "Upload {id} failed after {seconds:.1f}s with HTTP 503 (attempt {n})"
UPLOAD_REASON = "Upload <id> failed after <n>s with HTTP <n> (attempt <n>)"


@dataclass
class History:
    warehouse: Warehouse
    observations: list[str]  # their ids, oldest first
    served: dict[str, dict[str, dict]]
    read_at: dict[str, dict[str, datetime]]
    # When each listing read its last page (an empty one, at the end of a range, included).
    finished_at: dict[str, datetime]
    thinned: set[str]
    regressed: set[str]


def _serve(store: TaskStore, task: dict) -> None:
    store.add_record(task)


def _script(store: TaskStore, night: int, rng: random.Random, history: History) -> None:
    for task in list(store.tasks.values()):
        if task["task_type"] in UNTIMED_TYPES:
            untimed = {k: v for k, v in task.items() if k not in ("created_at", "updated_at")}
            data = {k: v for k, v in (task.get("additional_data") or {}).items()
                    if k not in ("started_at", "completed_at", "duration_ms")}
            untimed.pop("additional_data", None)
            _serve(store, {**untimed, **({"additional_data": data} if data else {})})
        elif task["status"] != "PENDING" and "queue_position" in task:
            # Queue fields describe a waiting task; the live service drops them once it starts.
            _serve(store, {k: v for k, v in task.items()
                           if k not in ("queue_position", "estimated_wait_minutes")})
    tasks = sorted(store.tasks.values(), key=lambda t: t["task_id"])
    if night == 1:
        # Tasks the emulator left SKIPPED or INTERRUPTED fail for real, with ids in the message.
        for task in rng.sample([t for t in tasks if t["status"] in ("SKIPPED", "INTERRUPTED")], 8):
            message = UPLOAD_ERROR.format(id=uuid.UUID(int=rng.getrandbits(128)),
                                          seconds=rng.uniform(1, 99), n=rng.randint(1, 5))
            _serve(store, {**task, "status": "FAILED", "error": message})
    if night == 2:
        seen = history.served[history.observations[night - 1]]
        batches = [t for t in tasks if t["status"] in TERMINAL and t["task_id"] in seen
                   and "batch_id" in (t.get("additional_data") or {})]
        for task in rng.sample(batches, 30):
            _serve(store, {**task, "additional_data": {"from_mongodb": True}})
            history.thinned.add(task["task_id"])
    if night == 3:
        before = history.served[history.observations[night - 1]]
        finished = [t for t in tasks if t["status"] in ("COMPLETED", "FAILED")
                    and before.get(t["task_id"], {}).get("status") == t["status"]
                    and t["task_id"] not in history.thinned]
        for task in rng.sample(finished, 12):
            reported = "PENDING" if task["status"] == "COMPLETED" else "COMPLETED"
            data = {**(task.get("additional_data") or {}), "from_mongodb": True}
            _serve(store, {**task, "status": reported, "additional_data": data})
            history.regressed.add(task["task_id"])


def build_history(root: Path, *, stuck_after_hours: float = 24.0) -> History:
    warehouse = Warehouse(root / "warehouse.duckdb")
    history = History(warehouse, [], {}, {}, {}, set(), set())
    rng = random.Random(41)
    with running_emulator(tasks=2500, seed=29) as server:
        with MixpeekClient("k", server.base_url) as client:
            for night in range(OBSERVATIONS):
                if night:
                    server.store.churn(250)
                _script(server.store, night, rng, history)
                served = copy.deepcopy(server.store.tasks)
                result = export_snapshot(client, root / "parquet", concurrency=2)
                observation = result.observation.id
                history.observations.append(observation)
                history.served[observation] = served
                history.finished_at[observation] = result.observation.listing_finished_at
                read = pq.read_table(result.tasks_path, columns=["task_id", "exported_at"])
                history.read_at[observation] = dict(zip(read.column("task_id").to_pylist(),
                                                        read.column("exported_at").to_pylist()))
                warehouse.load()
    warehouse.build_views(stuck_after_hours=stuck_after_hours)
    return history


def kept_statuses(history: History) -> dict[str, list[tuple[str, str, str]]]:
    """Per task, (observation, status kept, status reported) in time order, by the rule stated
    in the issue: once a task is seen terminal, that first terminal status stands."""
    result: dict[str, list[tuple[str, str, str]]] = {}
    for night in history.observations:
        for task_id, task in history.served[night].items():
            nights = result.setdefault(task_id, [])
            terminal = next((kept for _, kept, _ in nights if kept in TERMINAL), None)
            nights.append((night, terminal or task["status"], task["status"]))
    return result


def latest_known(history: History, task_id: str, field: str):
    """The latest non-null value of a field over the observations, read where flatten reads
    it: the top level first, then additional_data."""
    value = None
    for night in history.observations:
        task = history.served[night].get(task_id)
        if task is None:
            continue
        found = task.get(field)
        if found is None:
            found = (task.get("additional_data") or {}).get(field)
        if found is not None:
            value = found
    return value


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)
