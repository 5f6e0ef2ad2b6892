"""Injected failures: a seeded share of requests answered with one of many kinds of fault."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

FAULT_KINDS = (
    "429", "429_retry_after_0", "429_retry_after_past_date", "500", "502", "503", "504",
    "reset_mid_body", "truncated_body", "not_json", "no_results", "results_not_list", "drop",
    "slow", "drip", "cut_off",
)
# Kinds that send the real answer, only late ("slow"), a few bytes at a time after prompt
# headers ("drip": each piece within any read timeout, the whole taking for ever), or only its
# first half before the connection closes ("cut_off", as a proxy cut mid-transfer does).
# "not_json" is a proxy's HTML page with a 200.
DELIVERY_KINDS = frozenset({"slow", "drip", "cut_off"})


@dataclass
class Faults:
    """Make a seeded share of requests fail in one of `kinds` (see FAULT_KINDS)."""

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    seed: int = 0
    slow_seconds: float = 2.0
    drip_bytes: int = 16
    drip_seconds: float = 0.5
    injected: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def pick(self) -> str | None:
        with self._lock:
            if not self.rate or self._rng.random() >= self.rate:
                return None
            kind = self._rng.choice(self.kinds)
            self.injected.append(kind)
            return kind
