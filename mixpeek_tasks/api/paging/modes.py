"""The paging setting: which strategy an export uses, or `auto` to let the probe choose."""

from __future__ import annotations

from enum import Enum


class PagingMode(str, Enum):
    AUTO = "auto"
    KEYSET = "keyset"
    SLICED = "sliced"
    CURSOR = "cursor"
