"""Run by test_object_storage.py: one export into an S3 tree, in a child process.

    s3_crash_child.py BASE_URL S3_URI STAGING_DIR [--stall-upload]

With --stall-upload the upload of the tasks file stops half-way, as on a stalled network:
the child prints "uploading" and waits there for the test to kill it. Otherwise it prints the
rows exported, the rows resumed from staging and the observation's id.
"""

import sys
import time
from pathlib import Path

from mixpeek_tasks.api.transport import MixpeekClient
from mixpeek_tasks.snapshot.export import export_snapshot
from mixpeek_tasks.snapshot.object_store import S3Store
from mixpeek_tasks.snapshot.tree import SnapshotTree

base_url, uri, staging = sys.argv[1:4]
upload = S3Store._upload


def stalled_upload(self: S3Store, local: Path, key: str) -> None:
    if not local.name.startswith("tasks-"):
        return upload(self, local, key)
    data = local.read_bytes()
    with self.fs.open_output_stream(key) as target:
        target.write(data[:len(data) // 2])
        target.flush()
        print("uploading", flush=True)
        time.sleep(600)


if "--stall-upload" in sys.argv:
    S3Store._upload = stalled_upload
with MixpeekClient("sk_test_s3_crash", base_url, page_size=200) as client:
    result = export_snapshot(client, SnapshotTree(uri, staging), concurrency=2, part_rows=400)
print(result.rows, result.resumed_rows, result.observation.id)
