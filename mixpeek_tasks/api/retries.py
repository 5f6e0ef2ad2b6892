"""How long to wait before trying a request again: backoff with jitter, and `Retry-After`."""

from __future__ import annotations

import email.utils
import math
import random
from dataclasses import dataclass
from datetime import datetime, timezone


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded in attempts and in any single wait."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    # A floor so that `Retry-After: 0` or a date in the past cannot burn every attempt at once.
    min_delay: float = 0.2
    max_retry_after: float = 120.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2 ** attempt)
        return max(self.min_delay, rng.uniform(0, ceiling))


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return (when - datetime.now(timezone.utc)).total_seconds()
