"""Server profiles: the ways the live task list may differ from its documentation, each one a
quirk the emulator can switch on so the exporter's probing and fallbacks meet it in tests.
The default profile, with no quirk, is the documented behaviour."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from mixpeek_emulator.query import without_conditions


def _quirk(description: str) -> Any:
    return field(default=False, metadata={"description": description})


@dataclass(frozen=True)
class ServerProfile:
    """Which quirks the emulated service shows; build one with `ServerProfile.parse`."""

    ignores_sort: bool = _quirk(
        "the `sort` body key is ignored: results come newest first (created_at desc)")
    ignores_filters: bool = _quirk(
        "the `filters` body key is ignored (status, task_type and search still work)")
    sorts_page_only: bool = _quirk(
        "pages newest first (after filters), then sorts only the page it took as asked")
    timestamp_sort_only: bool = _quirk(
        "a sort on any field but created_at or updated_at is refused with 422")
    cursor_capped: bool = _quirk(
        "next_cursor is null once the next page would start at offset 10,000 or past it")
    recent_window: bool = _quirk(
        "lists (and counts) only tasks created in the last 24 hours, as if it read only Redis")
    no_total: bool = _quirk("include_total=true still answers total and total_pages null")
    no_timestamps: bool = _quirk(
        "records carry no created_at or updated_at, as the SDK's TaskResponse declares (the "
        "service still sorts and filters by its own)")
    ignores_status_filter: bool = _quirk(
        "the `status` body key and filters on status are ignored")
    ignores_in_filter: bool = _quirk("filter conditions with the `in` operator are ignored")
    ignores_created_at_filter: bool = _quirk("filter conditions on created_at are ignored")

    @classmethod
    def parse(cls, names: ServerProfile | str | Iterable[str]) -> ServerProfile:
        """A profile from quirk names: "a,b", an iterable of names, or a profile as it is."""
        if isinstance(names, ServerProfile):
            return names
        if isinstance(names, str):
            names = names.split(",")
        wanted = {name.strip() for name in names} - {""}
        unknown = wanted - set(QUIRKS)
        if unknown:
            raise ValueError(f"unknown server profile quirks {sorted(unknown)}; "
                             f"known: {', '.join(QUIRKS)}")
        return cls(**dict.fromkeys(wanted, True))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name in QUIRKS if getattr(self, name))

    def read(self, body: dict) -> dict:
        """`body` as a service with these quirks reads it: what it ignores taken out, silently."""
        read = dict(body)
        if self.ignores_status_filter:
            read.pop("status", None)
        if self.ignores_filters:
            read.pop("filters", None)
        elif read.get("filters"):
            read["filters"] = without_conditions(read["filters"], self._ignores)
        return read

    def _ignores(self, condition: dict) -> bool:
        return ((self.ignores_status_filter and condition.get("field") == "status")
                or (self.ignores_in_filter and condition.get("operator") == "in")
                or (self.ignores_created_at_filter and condition.get("field") == "created_at"))

    @property
    def honours_query(self) -> bool:
        """Whether results are the requested filters in the requested order, so that a task_id
        sort may be read straight off the sorted index."""
        return not (self.ignores_sort or self.ignores_filters or self.sorts_page_only)


QUIRKS: dict[str, str] = {f.name: f.metadata["description"] for f in fields(ServerProfile)}
DOCUMENTED = ServerProfile()
