"""The coverage record: it survives its JSON file, and reading it (as the warehouse does) needs
no network library."""

import subprocess
import sys
from datetime import datetime, timezone

from mixpeek_tasks.snapshot.coverage import Coverage, ServiceCounts, SnapshotContent
from tests.support import ROOT

MOMENT = datetime(2026, 11, 23, 1, 2, 3, tzinfo=timezone.utc)


def test_a_record_reads_back_as_it_was_written():
    coverage = Coverage(
        strategy="sliced", reason="counts", positional=True, cutoff=MOMENT,
        at_start=ServiceCounts(10, 9), at_end=ServiceCounts(12, None),
        content=SnapshotContent(12, 9, MOMENT, None, 0.5), requests=40,
        probe={"total": 10}, strategy_facts={"slices": 3}, verdict="exact")
    assert Coverage.from_json(coverage.to_json()) == coverage
    assert coverage.as_metadata()["created_before"] == MOMENT.isoformat()


def test_the_warehouse_reads_a_record_without_importing_httpx():
    done = subprocess.run(
        [sys.executable, "-c", "import sys, mixpeek_tasks.warehouse.database;"
         " print(sorted(m for m in sys.modules if m.split('.')[0] == 'httpx'))"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]"
