"""Every relative link of README.md and docs/*.md leads somewhere: the file exists and, for a
link to `#a-heading`, the heading does, as GitHub names its anchors. Moving a section between
documents breaks a link here, not for a reader."""

import re
from pathlib import Path

import pytest

from tests.support import ROOT

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _prose(path: Path) -> str:
    """The document without its fenced code blocks, where brackets are code, not links."""
    return re.sub(r"^```.*?^```", "", path.read_text(), flags=re.S | re.M)


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation but `-` and `_` dropped, spaces
    as `-`."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    names, seen = set(), {}
    for heading in re.findall(r"^#+ (.+)$", _prose(path), flags=re.M):
        name = _anchor(heading)
        count = seen.get(name, 0)
        seen[name] = count + 1
        names.add(f"{name}-{count}" if count else name)
    return names


def _relative_links(path: Path) -> list[str]:
    return [target for target in LINK.findall(_prose(path))
            if not re.match(r"[a-z]+:", target)]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(document):
    broken = []
    for target in _relative_links(document):
        file, _, anchor = target.partition("#")
        linked = (document.parent / file).resolve() if file else document
        if not linked.exists() or (anchor and linked.suffix == ".md"
                                   and anchor not in _anchors(linked)):
            broken.append(target)
    assert broken == []


def test_the_anchors_are_githubs():
    assert _anchor("What happens when things fail") == "what-happens-when-things-fail"
    assert _anchor("After a crash or a restart: run monitoring") == (
        "after-a-crash-or-a-restart-run-monitoring")
    assert _anchor("`task_snapshots` (view over the Parquet tree)") == (
        "task_snapshots-view-over-the-parquet-tree")


def test_the_readme_leads_to_every_document():
    linked = {target.partition("#")[0] for target in _relative_links(ROOT / "README.md")}
    assert {f"docs/{p.name}" for p in DOCUMENTS[1:]} <= linked
