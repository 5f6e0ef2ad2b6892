"""Builders and helpers shared by the test layers."""

from pathlib import Path

# The repository's root: where subprocesses of the tests run and find the packages.
ROOT = Path(__file__).resolve().parents[2]
