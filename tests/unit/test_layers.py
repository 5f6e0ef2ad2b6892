"""The layers import one way, pipelines -> assets -> mixpeek_tasks, and stand apart: the
library and the emulator without Dagster, the emulator without the client it tests, and no
import of a library or asset module changes the process."""

import ast
import subprocess
import sys

import pytest

from tests.support import ROOT

IMPORT_ALL = """
import importlib, json, os, pkgutil, sys
os.environ.pop("ARROW_DEFAULT_MEMORY_POOL", None)
package = importlib.import_module(sys.argv[1])
names = [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
         if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
print(json.dumps({"modules": names, "loaded": sorted(sys.modules),
                  "allocator": os.environ.get("ARROW_DEFAULT_MEMORY_POOL")}))
"""

PACKAGES = ("pipelines", "assets", "mixpeek_tasks", "mixpeek_emulator")
# What each package's modules may import of the project's packages and of Dagster. The assets
# are built against the Dagster resources of pipelines/, and nothing more of it (they have no
# partitions: each materialization is an observation); that module in turn imports no asset, so
# no module imports itself round a cycle.
ALLOWED = {
    "pipelines": {"pipelines", "assets", "mixpeek_tasks", "dagster"},
    "assets": {"assets", "pipelines.resources", "mixpeek_tasks", "dagster"},
    "mixpeek_tasks": {"mixpeek_tasks"},
    "mixpeek_emulator": {"mixpeek_emulator"},
}
BELOW_THE_ASSETS = ("pipelines/resources.py",)


def _import_everything_in(package: str) -> dict:
    import json

    done = subprocess.run([sys.executable, "-c", IMPORT_ALL, package], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def _imports(path) -> set[str]:
    """Every module `path` imports, at its top or inside a function, as written."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def _ours(module: str) -> bool:
    return module.split(".")[0] in (*PACKAGES, "dagster")


def _allowed(module: str, rules: set[str]) -> bool:
    return any(module == rule or module.startswith(rule + ".") for rule in rules)


@pytest.mark.parametrize("package", PACKAGES)
def test_each_layer_imports_only_the_layers_below_it(package):
    imported = {(path.relative_to(ROOT), module) for path in (ROOT / package).rglob("*.py")
                for module in _imports(path) if _ours(module)}
    assert len(imported) >= 10  # the walk really read the package's imports
    assert {f"{path} imports {module}" for path, module in imported
            if not _allowed(module, ALLOWED[package])} == set()


def test_the_modules_the_assets_import_from_pipelines_import_no_asset():
    for relative in BELOW_THE_ASSETS:
        assert [m for m in _imports(ROOT / relative) if m.split(".")[0] == "assets"] == []


@pytest.mark.parametrize("package", ["mixpeek_tasks", "mixpeek_emulator"])
def test_importing_every_module_loads_no_dagster(package):
    imported = _import_everything_in(package)
    assert len(imported["modules"]) >= 6  # the walk really found the package's modules
    assert not [name for name in imported["loaded"] if name.split(".")[0] == "dagster"]


def test_the_emulator_imports_nothing_from_the_client_it_tests():
    imported = _import_everything_in("mixpeek_emulator")
    assert not [name for name in imported["loaded"] if name.split(".")[0] == "mixpeek_tasks"]


@pytest.mark.parametrize("package", ["mixpeek_tasks", "assets"])
def test_importing_the_library_or_the_assets_leaves_process_settings_alone(package):
    imported = _import_everything_in(package)
    assert "pyarrow" in imported["loaded"]  # what the allocator setting is for was loaded
    assert imported["allocator"] is None
