"""Virtualenvs of their own for tests that drive another stack than the project's (Superset's
SQLAlchemy, Spark): made once under the user's cache, reused while their key is the same."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def venv_python(requirements: list[str]) -> Path:
    """The Python of a venv holding `requirements`; the test is skipped, saying why, only
    when pip cannot install them."""
    key = hashlib.sha256(json.dumps([requirements, sys.version]).encode()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    venv = cache / "mixpeek-test-venvs" / key
    python = venv / "bin" / "python"
    # Written last: a venv whose install was cut short is made again, not reused.
    complete = venv / "complete.json"
    if complete.exists():
        return python
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    installed = subprocess.run([str(python), "-m", "pip", "install", "-q", *requirements],
                               capture_output=True, text=True)
    if installed.returncode:
        shutil.rmtree(venv, ignore_errors=True)
        pytest.skip(f"pip cannot install {requirements}: {installed.stderr.strip()[-300:]}")
    complete.write_text(json.dumps(requirements))
    return python
