"""The library and the emulator stand without Dagster, and the emulator without the client."""

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


def _import_everything_in(package: str) -> dict:
    import json

    done = subprocess.run([sys.executable, "-c", IMPORT_ALL, package], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


@pytest.mark.parametrize("package", ["mixpeek_tasks", "mixpeek_emulator"])
def test_importing_every_module_loads_no_dagster(package):
    imported = _import_everything_in(package)
    assert len(imported["modules"]) >= 6  # the walk really found the package's modules
    assert not [name for name in imported["loaded"] if name.split(".")[0] == "dagster"]


def test_the_emulator_imports_nothing_from_the_client_it_tests():
    imported = _import_everything_in("mixpeek_emulator")
    assert not [name for name in imported["loaded"] if name.split(".")[0] == "mixpeek_tasks"]


def test_importing_the_library_leaves_process_settings_alone():
    assert _import_everything_in("mixpeek_tasks")["allocator"] is None
