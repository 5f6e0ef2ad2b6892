"""An observation: one listing of the whole account, at the moment it ran.

The service answers "list tasks" with what exists now; it has no as-of query. So the only
history an exporter can hold is a series of observations, each known by the instant its run
started (its id, minted by the run, never chosen by a caller) and dated by when its listing
read its first and last page. Two observations on one day are two points of the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

# Sortable as text, and free of the colons some filesystems and tools refuse in a path.
ID_FORMAT = "%Y-%m-%dT%H%M%SZ"
# The tree's folder of an observation, below each dataset (`tasks/observation=<id>/`), and of
# a night written before observations had ids (`tasks/export_date=YYYY-MM-DD/`), whose label
# a caller could choose and which is therefore never read as a time.
OBSERVATION_KEY = "observation"
LEGACY_KEY = "export_date"


def mint_id(moment: datetime) -> str:
    """The id of an observation started at `moment` (to the second, UTC)."""
    return moment.astimezone(timezone.utc).strftime(ID_FORMAT)


def id_time(observation_id: str) -> datetime:
    """When the observation `observation_id` started; ValueError if it is not an id."""
    return datetime.strptime(observation_id, ID_FORMAT).replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Observation:
    """One published listing. `listing_started_at`/`listing_finished_at` are when it read its
    first and last page (a resumed listing's first page is its first attempt's), None until
    its manifest is read."""

    id: str
    folder: str
    listing_started_at: datetime | None = None
    listing_finished_at: datetime | None = None

    @classmethod
    def new(cls, observation_id: str, listing_started_at: datetime | None = None,
            listing_finished_at: datetime | None = None) -> Observation:
        return cls(observation_id, f"{OBSERVATION_KEY}={observation_id}",
                   listing_started_at, listing_finished_at)

    @property
    def observed_on(self) -> date:
        """The UTC date of the observation."""
        return id_time(self.id).date()

    @property
    def legacy(self) -> bool:
        """Published under an export date (`export_date=` folder) before ids existed."""
        return self.folder.startswith(f"{LEGACY_KEY}=")

    def __str__(self) -> str:
        return f"observation {self.id}"


def folder_kind(folder: str) -> tuple[str, str] | None:
    """(key, value) of a tree folder that is an observation's (either layout); None for a
    folder of some other tool, or a value that is not an id or a date."""
    key, sep, value = folder.partition("=")
    if not sep:
        return None
    try:
        if key == OBSERVATION_KEY:
            id_time(value)
        elif key == LEGACY_KEY:
            date.fromisoformat(value)
        else:
            return None
    except ValueError:
        return None
    return key, value
