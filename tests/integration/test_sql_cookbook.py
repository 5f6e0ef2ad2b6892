"""docs/sql-cookbook.md's questions run on a real warehouse: a renamed column or view breaks
the cookbook here, not in an analyst's first query."""

import re

import pytest

from tests.support import ROOT


def _questions() -> dict[str, str]:
    """Each numbered question of the cookbook's SQL block, by its title comment."""
    doc = (ROOT / "docs" / "sql-cookbook.md").read_text()
    block = doc.split("## Ten questions, in SQL", 1)[1].split("```sql\n", 1)[1].split("```", 1)[0]
    parts = re.split(r"\n(?=-- \d+\. )", block.strip())
    return {part.splitlines()[0]: part for part in parts}


def test_the_cookbook_has_its_ten_questions():
    assert [title.split(".")[0] for title in _questions()] == [f"-- {n}" for n in range(1, 11)]


@pytest.mark.parametrize("title", list(_questions()))
def test_each_question_runs_on_a_warehouse_of_five_observations(history, title):
    result = history.warehouse.query(_questions()[title])
    assert result.columns
