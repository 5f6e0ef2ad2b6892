"""A night's manifest: the one file that says its partition files are all in place.

    <root>/tasks/export_date=YYYY-MM-DD/_manifest.json

It names every file of the night (tasks, quarantine, coverage record) with its size and, for
Parquet, its row count, and it is written last, whole (an atomic rename on disk, one PUT on
object storage). So a night is published exactly when its manifest exists, and a reader who
finds the files' sizes differ from it knows a publish was interrupted between the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import orjson

MANIFEST_NAME = "_manifest.json"
# Bumped when the format changes in a way an older reader would misread.
MANIFEST_VERSION = 1


class ManifestError(ValueError):
    """A manifest that cannot be read, or files that do not match it."""


@dataclass(frozen=True)
class ManifestEntry:
    """One file of the night, by its path relative to the tree's root."""

    path: str
    bytes: int
    rows: int | None = None


@dataclass(frozen=True)
class Manifest:
    export_date: date
    published_at: datetime
    files: dict[str, ManifestEntry]

    def to_json(self) -> bytes:
        return orjson.dumps({
            "version": MANIFEST_VERSION,
            "export_date": self.export_date.isoformat(),
            "published_at": self.published_at.isoformat(),
            "files": {role: {"path": e.path, "bytes": e.bytes, "rows": e.rows}
                      for role, e in self.files.items()},
        }, option=orjson.OPT_INDENT_2)

    @classmethod
    def from_json(cls, raw: bytes, export_date: date) -> Manifest:
        """The manifest of `export_date`; ManifestError if it is damaged, of another version
        or of another night (a file copied into the wrong partition)."""
        try:
            saved = orjson.loads(raw)
            if saved["version"] != MANIFEST_VERSION:
                raise ManifestError(f"manifest version {saved['version']!r} is not "
                                    f"{MANIFEST_VERSION}")
            manifest = cls(
                date.fromisoformat(saved["export_date"]),
                datetime.fromisoformat(saved["published_at"]),
                {role: ManifestEntry(str(e["path"]), int(e["bytes"]),
                                     None if e["rows"] is None else int(e["rows"]))
                 for role, e in saved["files"].items()})
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ManifestError(f"the manifest of {export_date} is unreadable ({error})") from None
        if manifest.export_date != export_date:
            raise ManifestError(f"the manifest of {export_date} names {manifest.export_date}")
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
                    f"publish of {self.export_date} was interrupted; export that date again")
