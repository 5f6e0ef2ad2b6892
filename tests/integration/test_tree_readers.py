"""The Parquet tree opens in every reader people use, pointed at a dataset's folder: pandas,
pyarrow's hive dataset, polars, DuckDB and Spark each read every observation's rows, with the
folder's hive key as a typed column (text, or a timestamp where the reader parses the id)."""

import json
import shutil
import subprocess
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from mixpeek_tasks.snapshot.observation import mint_id
from mixpeek_tasks.snapshot.parquet_files import DATA_FILE, QUARANTINE_DATASET, TASKS_DATASET
from tests.support.snapshots import write_snapshot
from tests.support.venvs import venv_python

SPARK_READER = Path(__file__).parents[1] / "support" / "spark_reader.py"
DATASETS = [TASKS_DATASET, QUARANTINE_DATASET]


@pytest.fixture(scope="module")
def quarantined(tmp_path_factory):
    """Three observations that each quarantined records (the shared history has none)."""
    root = tmp_path_factory.mktemp("quarantined")
    start = datetime(2026, 11, 20, 2, tzinfo=timezone.utc)
    for number in range(3):
        records = [{"task_id": f"t-{n}", "task_type": "thumbnail", "status": "COMPLETED"}
                   for n in range(10)]
        records += [{"task_id": f"bad-{number}-{n}", "status": "COMPLETED"}  # no task_type
                    for n in range(number + 1)]
        write_snapshot(root, records, start + timedelta(hours=7 * number))
    return root / "parquet"


@pytest.fixture
def folders(history, quarantined):
    return {TASKS_DATASET: Path(history.warehouse.tree.root) / TASKS_DATASET,
            QUARANTINE_DATASET: quarantined / QUARANTINE_DATASET}


def _expected(folder: Path) -> tuple[str, dict[str, int]]:
    """The hive key and each observation's rows, read from each data file's own footer."""
    keys, rows = set(), {}
    for data in sorted(folder.glob(f"*/{DATA_FILE}")):
        key, value = data.parent.name.split("=", 1)
        keys.add(key)
        rows[value] = pq.read_metadata(data).num_rows
    (key,) = keys
    assert len(rows) >= 3 and all(rows.values())
    return key, rows


def _counts(values) -> dict[str, int]:
    """Rows per key value, as the folder names it: a reader that parsed the observation's id
    (polars) gives it back as a timestamp."""
    return dict(Counter(mint_id(value) if isinstance(value, datetime) else str(value)
                        for value in values))


def _pandas(folder: Path, key: str):
    frame = pd.read_parquet(folder)
    return _counts(frame[key]), str(frame[key].dtype)


def _pyarrow(folder: Path, key: str):
    table = ds.dataset(folder, format="parquet", partitioning="hive").to_table()
    return _counts(table.column(key).to_pylist()), str(table.schema.field(key).type)


def _polars(folder: Path, key: str):
    frame = pl.read_parquet(folder)
    return _counts(frame[key].to_list()), str(frame.schema[key])


def _duckdb(folder: Path, key: str):
    with duckdb.connect() as con:
        rows = con.execute(
            f'SELECT "{key}", typeof("{key}") FROM read_parquet($glob, hive_partitioning = true)',
            {"glob": str(folder / "*" / "*.parquet")}).fetchall()
    return _counts(value for value, _ in rows), ",".join(sorted({kind for _, kind in rows}))


READERS = {"pandas": _pandas, "pyarrow": _pyarrow, "polars": _polars, "duckdb": _duckdb}


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("reader", list(READERS))
def test_each_reader_reads_every_observation(folders, reader, dataset):
    folder = folders[dataset]
    key, expected = _expected(folder)
    counts, kind = READERS[reader](folder, key)
    assert counts == expected
    print(f"{reader} {dataset}: {sum(counts.values())} rows in {len(counts)} observations,"
          f" {key} as {kind}")


@pytest.mark.parametrize("dataset", DATASETS)
def test_spark_reads_every_observation(folders, dataset):
    """Spark skips files under `_` or `.`, and infers the key's type from the folder names."""
    if shutil.which("java") is None:
        pytest.skip("no Java runtime for Spark on this machine")
    python = venv_python(["pyspark>=4,<5"])
    key, expected = _expected(folders[dataset])
    ran = subprocess.run([str(python), str(SPARK_READER), str(folders[dataset]), key],
                         capture_output=True, text=True, timeout=600)
    assert ran.returncode == 0, ran.stderr[-2000:]
    read = json.loads(ran.stdout.strip().splitlines()[-1])
    assert read["rows"] == expected
    print(f"spark {dataset}: {sum(read['rows'].values())} rows in {len(read['rows'])}"
          f" observations, {key} as {read['type']}")


def test_a_datasets_folder_holds_its_data_files_only(folders):
    """What a reader that takes every file of the folder (polars) finds: Parquet data only;
    the observations' manifests and coverage records are in a folder of their own."""
    for folder in folders.values():
        files = [path for path in folder.rglob("*") if path.is_file()]
        assert files and all(path.name == DATA_FILE for path in files), files
        assert list((folder.parent / "_observations").glob("*/_manifest.json"))
