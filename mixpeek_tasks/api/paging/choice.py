"""Choose the paging strategy for an export from the probe's report.

Each strategy has a small class in the registry: what it needs from the report, the questions
to ask before it can tell (the probe asked the rest), how to build it, and why it is chosen.
`auto` tries them in the registry's order and takes the first whose assumptions all hold.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from mixpeek_tasks.api.errors import MixpeekProtocolError
from mixpeek_tasks.api.paging.cursor import CursorPaging
from mixpeek_tasks.api.paging.keyset import KeysetPaging, ranges_between
from mixpeek_tasks.api.paging.modes import PagingMode
from mixpeek_tasks.api.paging.pages import PagingStrategy
from mixpeek_tasks.api.paging.probe import (
    TASK_ID_ORDER,
    ProbeReport,
    ProbeRequests,
    Question,
    ask_created_at_sort,
    ask_cursor,
    ask_range_filters,
)
from mixpeek_tasks.api.paging.runner import PagingRunner
from mixpeek_tasks.api.paging.sliced import SlicedPaging


class StrategyChoice(ABC):
    """One strategy as the choice sees it."""

    mode: ClassVar[PagingMode]
    needs: ClassVar[tuple[str, ...]]
    questions: ClassVar[tuple[Question, ...]]
    reason: ClassVar[str]

    @abstractmethod
    def build(self, report: ProbeReport, *, concurrency: int) -> PagingStrategy:
        """The strategy, set up from what the report found."""


class KeysetChoice(StrategyChoice):
    mode = PagingMode.KEYSET
    needs = TASK_ID_ORDER
    questions = (ask_range_filters,)
    reason = "the service honours sort and range filters on task_id, sorted before limit"

    def build(self, report: ProbeReport, *, concurrency: int) -> PagingStrategy:
        return KeysetPaging(ranges_between(report.id_sample, concurrency))


class SlicedChoice(StrategyChoice):
    mode = PagingMode.SLICED
    needs = ("created_at_sort", "total_given")
    questions = (ask_created_at_sort,)
    reason = "the service sorts by created_at before the limit and counts what it lists"

    def build(self, report: ProbeReport, *, concurrency: int) -> PagingStrategy:
        return SlicedPaging(report.total)


class CursorChoice(StrategyChoice):
    mode = PagingMode.CURSOR
    needs = ("next_cursor_moves_forward",)
    questions = (ask_cursor,)
    reason = "next_cursor moves forward"

    def build(self, report: ProbeReport, *, concurrency: int) -> PagingStrategy:
        return CursorPaging()


# In the order `auto` tries them.
CHOICES: tuple[StrategyChoice, ...] = (KeysetChoice(), SlicedChoice(), CursorChoice())


def choose(runner: PagingRunner, report: ProbeReport, mode: PagingMode | str, *,
           concurrency: int) -> tuple[PagingStrategy, str]:
    """The strategy for this export and the reason, or MixpeekProtocolError naming what the
    service did not honour. `auto` takes the first strategy whose assumptions all hold (for
    sliced paging, also whose plan the service's counts allow)."""
    mode = PagingMode(mode)
    ask = ProbeRequests(runner, report)
    refused = []
    for choice in CHOICES:
        if mode is not PagingMode.AUTO and choice.mode is not mode:
            continue
        # A strategy nothing has disproved yet starts while its last questions are asked
        # (keyset paging sends its first pages); nothing of it is read unless they all hold,
        # and then only what they vouch for.
        strategy = (choice.build(report, concurrency=concurrency)
                    if report.holds(*choice.needs) else None)
        if strategy is not None and strategy.prefetches_first_pages:
            runner.prefetch(strategy)
        for question in choice.questions:
            question(report, ask)
        failed = [a for a in choice.needs if not report.holds(a)]
        if failed:
            refused.append(f"{choice.mode.value} paging needs {', '.join(failed)}: "
                           + "; ".join(report.reasons[a] for a in failed))
            continue
        try:
            strategy.prepare(runner.ask)  # sliced paging asks the service's counts here
        except MixpeekProtocolError as error:
            refused.append(f"{choice.mode.value} paging: {error}")
            continue
        reason = choice.reason
        if refused:
            reason += " (" + " | ".join(refused) + ")"
        return strategy, reason
    raise MixpeekProtocolError("no paging strategy can list every task here: "
                               + " | ".join(refused))
