"""What every paging strategy shares: the request a stream asks to send, what it reads from the
answer, the page the runner yields, and the strategy's interface.

Nothing here sends a request: a strategy only builds requests and reads answers, so it can be
driven by any function that answers them (the runner's client, or a test's list of tasks).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar


@dataclass(frozen=True)
class PageRequest:
    """One list request: its body, its `limit`, further query parameters (`cursor`, `offset`,
    `include_total`), and the label that names it in logs and errors. With `task_id`, a read
    of that one task (`GET /v1/tasks/{task_id}`), answered as a list of it or of nothing."""

    body: dict
    limit: int
    label: str
    params: dict | None = None
    task_id: str | None = None


# Sends one request and returns the decoded answer: how a strategy that must ask something
# before it can plan (sliced paging's counts) reaches the service without sending itself.
Ask = Callable[[PageRequest], dict]


@dataclass(frozen=True)
class Reading:
    """What a stream read from one answer: the tasks new to it, the position to resume after
    once they are consumed, and whether the stream is exhausted."""

    tasks: list = field(repr=False)
    after: str | None
    is_last: bool


@dataclass(frozen=True)
class Page:
    """One page of tasks as a strategy read them.

    `stream` names the part of the listing it belongs to (an id range, a slice, the cursor);
    `after` is the position to resume that stream from once this page is consumed, and
    `is_last` says the stream is exhausted.
    """

    stream: str
    number: int
    tasks: list = field(repr=False)
    fetched_at: datetime
    size_bytes: int
    after: str | None
    is_last: bool


class Stream(ABC):
    """One part of the listing, paged in order: it says what to ask next and reads each answer,
    raising MixpeekProtocolError when the answer breaks what its strategy relies on, rather
    than skip tasks. `number` counts the pages asked for so far."""

    key: str
    number: int = 0

    @abstractmethod
    def next_request(self) -> PageRequest:
        """The request for the next page (counted in `number`)."""

    @abstractmethod
    def read(self, payload: dict) -> Reading:
        """Read the answer to the last request and move the position on."""


class PagingStrategy(ABC):
    """One way of listing every task: the streams it pages and how to resume them."""

    name: ClassVar[str]
    # Whether an interrupted export may resume from the staged positions of its streams.
    resumable: ClassVar[bool] = False
    # Whether it pages by position (offsets, a cursor), where a task deleted meanwhile can
    # make it skip another unseen: the reconciliation then refuses a run with deletions.
    positional: ClassVar[bool] = True
    # Whether the first page of every stream may be sent while the probe's last question is
    # still out (read only if the strategy is chosen).
    prefetches_first_pages: ClassVar[bool] = False

    def prepare(self, ask: Ask) -> None:
        """Ask what the plan needs before paging starts (nothing, unless a strategy says
        otherwise); MixpeekProtocolError if the answers show the plan cannot work."""

    @abstractmethod
    def plan(self) -> dict[str, Any]:
        """The streams to page, each key with what rebuilds it (JSON), for the checkpoint."""

    def adopt(self, plan: dict[str, Any]) -> None:
        """Page the streams of a checkpoint's `plan` instead (only for resumable strategies)."""
        raise NotImplementedError(f"{self.name} paging does not resume")

    @abstractmethod
    def streams(self, positions: Mapping[str, str | None] | None, *,
                page_size: int) -> list[Stream]:
        """The streams of `positions`' keys, each resumed after its position (all streams from
        their start when None), asking for `page_size` tasks a page."""

    def facts(self) -> dict[str, Any]:
        """What the strategy observed while paging (repeats dropped, slices...), for metadata."""
        return {}


def task_ids(tasks: list) -> list[str]:
    """The string task_ids of a page, skipping records without one (left for quarantine)."""
    return [t["task_id"] for t in tasks
            if isinstance(t, dict) and isinstance(t.get("task_id"), str)]
