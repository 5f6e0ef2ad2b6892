"""An observation's manifest: the one file that says its files are all in place.

    <root>/_observations/observation=<id>/_manifest.json

It names every file of the observation (tasks, quarantine, coverage record) with its size and,
for Parquet, its row count, and when its listing read its first and last page; it is written
last, whole (an atomic rename on disk, one PUT on object storage). So an observation is
published exactly when its manifest exists, and a reader who finds the files' sizes differ
from it knows a publish was interrupted between the two. Manifests of version 1 describe a
night of a tree written before observations had ids (`export_date=YYYY-MM-DD/`): they name
the folder's date and no listing times, which come from the files themselves (tree.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson

from mixpeek_tasks.snapshot.observation import LEGACY_KEY, OBSERVATION_KEY

MANIFEST_NAME = "_manifest.json"
# Bumped when the format changes in a way an older reader would misread.
MANIFEST_VERSION = 2
LEGACY_VERSION = 1


class ManifestError(ValueError):
    """A manifest that cannot be read, or files that do not match it."""


@dataclass(frozen=True)
class ManifestEntry:
    """One file of the observation, by its path relative to the tree's root."""

    path: str
    bytes: int
    rows: int | None = None


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


@dataclass(frozen=True)
class Manifest:
    folder: str  # the observation's folder below each dataset, which it describes
    published_at: datetime
    files: dict[str, ManifestEntry]
    listing_started_at: datetime | None = None
    listing_finished_at: datetime | None = None

    def to_json(self) -> bytes:
        key, _, value = self.folder.partition("=")
        if key == LEGACY_KEY:
            head = {"version": LEGACY_VERSION, "export_date": value}
        else:
            head = {"version": MANIFEST_VERSION, "observation": value,
                    "listing_started_at": _iso(self.listing_started_at),
                    "listing_finished_at": _iso(self.listing_finished_at)}
        return orjson.dumps({
            **head,
            "published_at": self.published_at.isoformat(),
            "files": {role: {"path": e.path, "bytes": e.bytes, "rows": e.rows}
                      for role, e in self.files.items()},
        }, option=orjson.OPT_INDENT_2)

    @classmethod
    def from_json(cls, raw: bytes, folder: str) -> Manifest:
        """The manifest of the observation in `folder`; ManifestError if it is damaged, of
        another version or of another observation (a file copied into the wrong folder)."""
        try:
            saved = orjson.loads(raw)
            version = saved["version"]
            if version == LEGACY_VERSION:
                named = f"{LEGACY_KEY}={saved['export_date']}"
                times = (None, None)
            elif version == MANIFEST_VERSION:
                named = f"{OBSERVATION_KEY}={saved['observation']}"
                times = (_moment(saved["listing_started_at"]),
                         _moment(saved["listing_finished_at"]))
            else:
                raise ManifestError(f"manifest version {version!r} is not "
                                    f"{MANIFEST_VERSION} (or {LEGACY_VERSION})")
            manifest = cls(
                named,
                datetime.fromisoformat(saved["published_at"]),
                {role: ManifestEntry(str(e["path"]), int(e["bytes"]),
                                     None if e["rows"] is None else int(e["rows"]))
                 for role, e in saved["files"].items()},
                *times)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            if isinstance(error, ManifestError):
                raise ManifestError(f"the manifest of {folder}: {error}") from None
            raise ManifestError(f"the manifest of {folder} is unreadable ({error})") from None
        if manifest.folder != folder:
            raise ManifestError(f"the manifest of {folder} names {manifest.folder}")
        return manifest

    def check_sizes(self, sizes: dict[str, int | None]) -> None:
        """ManifestError naming the first file whose size (None: missing) is not the one the
        manifest promises: a publish was cut off after replacing files, before the manifest."""
        for role, entry in self.files.items():
            found = sizes.get(role)
            if found != entry.bytes:
                state = "missing" if found is None else f"{found:,} bytes"
                raise ManifestError(
                    f"{entry.path} is {state}, its manifest says {entry.bytes:,} bytes: the "
                    f"publish of {self.folder} was interrupted; run the export again")


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
