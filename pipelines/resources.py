"""Dagster resources: configuration in, library objects out."""

from pathlib import Path

import httpx
from dagster import ConfigurableResource
from pydantic import Field

from mixpeek_tasks.api.budget import RequestBudget
from mixpeek_tasks.api.paging.probe import PagingMode
from mixpeek_tasks.api.retries import RetryPolicy
from mixpeek_tasks.api.transport import DEFAULT_BASE_URL, MAX_PAGE_SIZE, MixpeekClient
from mixpeek_tasks.preflight import check_api_key, check_base_url, check_export_dir
from mixpeek_tasks.snapshot.tree import SnapshotTree
from mixpeek_tasks.warehouse.database import Warehouse


class MixpeekResource(ConfigurableResource):
    """Access to Mixpeek's task list. The key is read from the environment, never stored."""

    # Empty when MIXPEEK_API_KEY is unset, so the run can say so in one line (preflight).
    api_key: str = Field(default="", description="Mixpeek API key (MIXPEEK_API_KEY)")
    base_url: str = DEFAULT_BASE_URL
    page_size: int = Field(default=MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    concurrency: int = Field(default=4, ge=1, le=16,
                             description="task-id ranges fetched at once")
    max_requests_per_minute: int | None = Field(
        default=None, ge=1, description="client-side request budget; None = no cap")
    timeout_seconds: float = Field(default=60.0, gt=0)
    paging: PagingMode = Field(
        default=PagingMode.AUTO,
        description="auto: probe the service and take the first strategy that is complete there;"
                    " keyset, sliced or cursor: force one (MIXPEEK_PAGING)")
    max_attempts: int = Field(default=6, ge=1, description="tries per page before the run fails")
    retry_base_seconds: float = Field(default=0.5, gt=0, description="first backoff ceiling")
    retry_floor_seconds: float = Field(
        default=0.2, ge=0, description="least wait between tries, whatever Retry-After says")

    def preflight(self) -> None:
        """Fail in one line on what can be known before the first request."""
        check_api_key(self.api_key)
        check_base_url(self.base_url)

    def client(self) -> MixpeekClient:
        return MixpeekClient(
            self.api_key,
            self.base_url,
            page_size=self.page_size,
            retry=RetryPolicy(max_attempts=self.max_attempts, base_delay=self.retry_base_seconds,
                              min_delay=self.retry_floor_seconds),
            timeout=httpx.Timeout(self.timeout_seconds, connect=min(10.0, self.timeout_seconds)),
            budget=RequestBudget(self.max_requests_per_minute),
        )


class ExportStorage(ConfigurableResource):
    """Where the export lives: `<export_dir>/parquet/` and `<export_dir>/warehouse.duckdb`."""

    export_dir: str = "./data"

    @property
    def parquet_root(self) -> Path:
        return Path(self.export_dir) / "parquet"

    def preflight(self) -> None:
        check_export_dir(Path(self.export_dir))

    def warehouse(self) -> Warehouse:
        return Warehouse(Path(self.export_dir) / "warehouse.duckdb",
                         SnapshotTree(self.parquet_root))
