"""Dagster resources: configuration in, library objects out."""

from pathlib import Path

import httpx
from dagster import ConfigurableResource
from pydantic import Field

from mixpeek_tasks import settings
from mixpeek_tasks.api.budget import RequestBudget
from mixpeek_tasks.api.paging.modes import PagingMode
from mixpeek_tasks.api.retries import RetryPolicy
from mixpeek_tasks.api.transport import MAX_PAGE_SIZE, MixpeekClient
from mixpeek_tasks.preflight import (
    check_api_key,
    check_base_url,
    check_export_dir,
    check_object_store,
    warehouse_file,
)
from mixpeek_tasks.snapshot.object_store import is_s3_uri
from mixpeek_tasks.snapshot.tree import SnapshotTree, export_tree
from mixpeek_tasks.warehouse.database import Warehouse


class MixpeekResource(ConfigurableResource):
    """Access to Mixpeek's task list. The key is read from the environment, never stored."""

    # Empty when MIXPEEK_API_KEY is unset, so the run can say so in one line (preflight).
    api_key: str = Field(default="", description="Mixpeek API key (MIXPEEK_API_KEY)")
    base_url: str = settings.BASE_URL.default
    page_size: int = Field(default=MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    concurrency: int = Field(default=4, ge=1, le=16,
                             description="task-id ranges fetched at once")
    max_requests_per_minute: int | None = Field(
        default=None,
        description="client-side request budget; None = no cap (below 1 is refused)")
    timeout_seconds: float = Field(default=60.0, gt=0)
    # Whole seconds, as Dagster reads an int from the environment but not a float; not bounded
    # here, as pydantic would judge EnvVar's placeholder, not the value (the client refuses
    # one that is not positive).
    answer_deadline_seconds: int = Field(
        default=int(settings.ANSWER_DEADLINE_SECONDS.default),
        description="longest one answer, headers and body, may take before it is retried"
                    " (MIXPEEK_ANSWER_DEADLINE_SECONDS)")
    paging: PagingMode = Field(
        default=PagingMode(settings.PAGING.default),
        description="auto: probe the service and take the first strategy that is complete there;"
                    " keyset, sliced or cursor: force one (MIXPEEK_PAGING)")
    full_listing_every: int | None = Field(
        default=None,
        description="every this many observations lists every task even where an incremental"
                    " one is proven exact; None: MIXPEEK_FULL_LISTING_EVERY when the run starts"
                    " (default 7)")
    max_attempts: int = Field(default=6, ge=1, description="tries per page before the run fails")
    retry_base_seconds: float = Field(default=0.5, gt=0, description="first backoff ceiling")
    retry_floor_seconds: float = Field(
        default=0.2, ge=0, description="least wait between tries, whatever Retry-After says")

    def preflight(self) -> list[str]:
        """Fail in one line on what can be known before the first request; return what the
        run should say about its setup (a key that came with whitespace around it)."""
        key = check_api_key(self.api_key)
        check_base_url(self.base_url)
        return [key.trimmed] if key.trimmed else []

    def client(self) -> MixpeekClient:
        return MixpeekClient(
            self.api_key,
            self.base_url,
            page_size=self.page_size,
            retry=RetryPolicy(max_attempts=self.max_attempts, base_delay=self.retry_base_seconds,
                              min_delay=self.retry_floor_seconds),
            timeout=httpx.Timeout(self.timeout_seconds, connect=min(10.0, self.timeout_seconds)),
            deadline=self.answer_deadline_seconds,
            budget=RequestBudget(self.max_requests_per_minute),
        )


class ExportStorage(ConfigurableResource):
    """Where the export lives: the Parquet tree at `<export_dir>/parquet/` (a folder or an
    s3:// prefix) and DuckDB at `warehouse_path` (default `<export_dir>/warehouse.duckdb`)."""

    export_dir: str = Field(default=settings.EXPORT_DIR.default,
                            description="a folder, or s3://bucket/prefix (MIXPEEK_EXPORT_DIR)")
    warehouse_path: str | None = Field(
        default=None, description="the local DuckDB file; required when export_dir is on S3"
                                  " (MIXPEEK_WAREHOUSE)")
    staging_dir: str | None = Field(
        default=None, description="local staging of an S3 export, default a folder under the"
                                  " system's temporary directory (MIXPEEK_STAGING_DIR)")

    def tree(self) -> SnapshotTree:
        return export_tree(self.export_dir, self.staging_dir)

    def preflight(self) -> None:
        warehouse_file(self.export_dir, self.warehouse_path)
        if is_s3_uri(self.export_dir):
            tree = self.tree()
            check_object_store(tree)
            check_export_dir(tree.staging_dir, what="staging directory",
                             variable="MIXPEEK_STAGING_DIR")
        else:
            check_export_dir(Path(self.export_dir))

    def warehouse(self) -> Warehouse:
        return Warehouse(warehouse_file(self.export_dir, self.warehouse_path), self.tree())
