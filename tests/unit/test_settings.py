"""The environment variables: one declaration each (mixpeek_tasks/settings.py), the guide's
table (docs/guide.md, "Settings") the same, and no module reading the environment behind the
settings' back."""

import ast
import re

import pytest

from mixpeek_tasks import settings
from mixpeek_tasks.settings import Setting, SettingError
from tests.support import ROOT

LAYERS = ("pipelines", "assets", "mixpeek_tasks")
# Modules that touch os.environ other than to read a setting, and why.
ENVIRONMENT_WRITERS = {
    "mixpeek_tasks/settings.py": "reads every setting",
    "mixpeek_tasks/process.py": "sets Arrow's allocator before pyarrow loads",
    "pipelines/demo.py": "hands the environment on to the run it starts",
}


def _guide_table() -> dict[str, str]:
    """Each variable of the guide's table, with the default its row shows."""
    guide = (ROOT / "docs" / "guide.md").read_text()
    table = guide.split("| variable | default | meaning |\n|---|---|---|\n", 1)[1]
    rows = {}
    for line in table.split("\n\n", 1)[0].splitlines():
        names, default, _meaning = (cell.strip() for cell in line.strip("|").split(" | ", 2))
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", names):
            rows[name] = default
    return rows


def test_the_guide_table_lists_every_setting_with_its_default():
    declared = {setting.name: setting.documented_default for setting in settings.VARIABLES}
    assert len(declared) == len(settings.VARIABLES)  # no variable declared twice
    assert _guide_table() == declared


def test_every_variable_the_code_and_docs_name_is_declared():
    named = set()
    for path in [*(p for layer in LAYERS for p in (ROOT / layer).rglob("*.py")),
                 ROOT / "README.md", *(ROOT / "docs").glob("*.md"),
                 *(ROOT / "deploy").rglob("*")]:
        if path.is_file():
            named |= set(re.findall(r"\bMIXPEEK_[A-Z0-9_]*[A-Z0-9]\b", path.read_text()))
    assert named - {setting.name for setting in settings.VARIABLES} == set()


def _reads_environment(tree: ast.AST) -> bool:
    return any(isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv")
               for node in ast.walk(tree))


def test_only_the_settings_module_reads_the_environment():
    touching = {str(path.relative_to(ROOT)) for layer in LAYERS
                for path in (ROOT / layer).rglob("*.py")
                if _reads_environment(ast.parse(path.read_text()))}
    assert touching == set(ENVIRONMENT_WRITERS)


def test_a_setting_reads_its_variable_or_its_default_when_unset_or_empty():
    hours = Setting("X_HOURS", "test", default="26", kind=float)
    assert hours.read({}) == 26.0
    assert hours.read({"X_HOURS": ""}) == 26.0 and not hours.is_set({"X_HOURS": ""})
    assert hours.read({"X_HOURS": "1.5"}) == 1.5 and hours.is_set({"X_HOURS": "1.5"})
    assert Setting("X_CAP", "test", kind=int).read({}) is None


@pytest.mark.parametrize("raw, value", [("1", True), ("yes", True), ("0", False),
                                        ("false", False), ("Off", False)])
def test_a_flag_is_off_when_it_says_so(raw, value):
    assert Setting("X_DEBUG", "test", kind=bool).read({"X_DEBUG": raw}) is value


@pytest.mark.parametrize("setting, raw", [(settings.FRESHNESS_HOURS, "a day"),
                                          (settings.MAX_REQUESTS_PER_MINUTE, "1.5")])
def test_a_value_of_the_wrong_type_is_named_in_one_line(setting, raw):
    with pytest.raises(SettingError, match=f"^{setting.name}='{raw}' is not a .*number$"):
        setting.read({setting.name: raw})
