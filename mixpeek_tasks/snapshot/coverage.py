"""The record of what one export covered and how it was checked: the service's counts at its
start and end, what the snapshot holds, and the verdict. Written beside the night's files as
`_coverage.json` and loaded into the warehouse's `export_coverage` table; it imports nothing
of the client, so whatever reads a record needs no network library.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import orjson


@dataclass(frozen=True)
class ServiceCounts:
    """The service's counts at one moment: every task, and those created before the cutoff."""

    total: int | None
    created_before: int | None


@dataclass(frozen=True)
class SnapshotContent:
    listed: int
    listed_from_before: int
    oldest_created_at: datetime | None
    newest_created_at: datetime | None
    from_mongodb_share: float | None


@dataclass(frozen=True)
class Coverage:
    """What the export covered and how it was checked: metadata, and the `export_coverage`
    table."""

    strategy: str
    reason: str
    positional: bool
    cutoff: datetime
    at_start: ServiceCounts
    at_end: ServiceCounts
    content: SnapshotContent
    requests: int
    probe: dict[str, Any] = field(default_factory=dict)
    strategy_facts: dict[str, Any] = field(default_factory=dict)
    verdict: str = ""
    # An incremental observation's record (snapshot/increment.py, Increment): the observation
    # it builds on, the counts that checked it, the tasks it carried unchanged from there
    # without listing them and those it found gone. None for a listing of every task.
    increment: dict[str, Any] | None = None

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self), option=orjson.OPT_INDENT_2)

    @classmethod
    def from_json(cls, raw: bytes) -> Coverage:
        saved = orjson.loads(raw)
        content = saved.pop("content")
        for moment in ("oldest_created_at", "newest_created_at"):
            if content[moment] is not None:
                content[moment] = datetime.fromisoformat(content[moment])
        return cls(**{**saved, "cutoff": datetime.fromisoformat(saved["cutoff"]),
                      "at_start": ServiceCounts(**saved["at_start"]),
                      "at_end": ServiceCounts(**saved["at_end"]),
                      "content": SnapshotContent(**content)})

    def as_metadata(self) -> dict[str, Any]:
        flat = {"strategy": self.strategy, "strategy_reason": self.reason,
                "verdict": self.verdict, "requests": self.requests,
                "created_before": self.cutoff.isoformat(),
                **{f"{k}_at_start": v for k, v in asdict(self.at_start).items()},
                **{f"{k}_at_end": v for k, v in asdict(self.at_end).items()},
                **asdict(self.content),
                "incremental_from": self.increment and self.increment["base_observation"],
                "carried": self.increment and self.increment["carried"],
                "gone_task_ids": self.increment and self.increment["gone"]}
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in flat.items()}
