"""SQL kept in `.sql` files inside the package, read the one way everywhere."""

from __future__ import annotations

import re
from importlib import resources


def read_sql(package: str, name: str) -> str:
    """The text of `sql/<name>` in `package`."""
    return resources.files(package).joinpath("sql", name).read_text()


def sql_statements(package: str, name: str) -> list[str]:
    """The statements of `sql/<name>` in `package` (statements end with ';' at a line end;
    comment lines are dropped)."""
    lines = [line for line in read_sql(package, name).splitlines()
             if not line.lstrip().startswith("--")]
    return [s.strip() for s in re.split(r";\s*$", "\n".join(lines), flags=re.M) if s.strip()]
