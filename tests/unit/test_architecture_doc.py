"""docs/architecture.md's layout names every module of the four packages, and nothing that
is not there, so a newcomer can trust it to find where a thing lives."""

import re

from tests.support import ROOT

PACKAGES = ("pipelines", "assets", "mixpeek_tasks", "mixpeek_emulator")


def _layout() -> set[str]:
    """The paths the layout block names, relative to the repository (a folder ends in /)."""
    doc = (ROOT / "docs" / "architecture.md").read_text()
    block = doc.split("## Layout", 1)[1].split("```", 2)[1]
    named, package = set(), ""
    for line in block.splitlines():
        if match := re.match(r"(\S+/)\s", line + " "):
            package = match.group(1)
            named.add(package)
        elif match := re.match(r"  (\S+)", line):
            named.add(package + match.group(1))
    return named


def _modules() -> set[str]:
    return {str(path.relative_to(ROOT)) for package in PACKAGES
            for path in (ROOT / package).rglob("*.py")
            if path.name not in ("__init__.py", "__main__.py")}


def test_the_layout_names_every_module():
    named = _layout()
    missing = {module for module in _modules() if module not in named
               and not any(module.startswith(folder) for folder in named
                           if folder.endswith("/") and folder.count("/") > 1)}
    assert missing == set()


def test_the_layout_names_nothing_that_is_not_there():
    assert {path for path in _layout() if not (ROOT / path).exists()} == set()
