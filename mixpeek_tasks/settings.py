"""Every environment variable the exporter reads: its name, default, type and meaning.

Nothing is read at import: a setting is read when it is used (`read()`), so a process, or a
test, that sets the environment first is seen. The Dagster resources get theirs through
`EnvVar` of these names (pipelines/definitions.py); the command-line tools and the sensors
call `read()`. The table of variables in docs/guide.md is checked against this module
(tests/unit/test_settings.py). Dagster's own instance variables (`DAGSTER_PG_*`, read by
deploy/dagster.yaml) are not the code's and are not here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_KIND_NAMES = {int: "a whole number", float: "a number"}
_OFF = ("", "0", "false", "no", "off")
_AWS_CHAIN = "the AWS SDK's chain (`~/.aws`, instance role)"


class SettingError(ValueError):
    """A variable holds a value of the wrong type; the message names the variable."""


@dataclass(frozen=True)
class Setting:
    """One environment variable. `default` is written as it would be in the environment
    (None: there is none, and `unset` says what happens without the variable)."""

    name: str
    meaning: str
    default: str | None = None
    kind: type = str
    unset: str = "unset"

    @property
    def documented_default(self) -> str:
        """The default as the table in docs/guide.md shows it."""
        return self.unset if self.default is None else f"`{self.default}`"

    def is_set(self, environ: Mapping[str, str] = os.environ) -> bool:
        """Set to a value; an empty value counts as unset, as everywhere in the exporter."""
        return bool(environ.get(self.name))

    def read(self, environ: Mapping[str, str] = os.environ) -> Any:
        """The value of the variable, or its default, as `kind`; None when neither is set."""
        raw = environ.get(self.name) or self.default
        return None if raw is None else self.parse(raw)

    def parse(self, raw: str) -> Any:
        if self.kind is bool:
            return raw.strip().lower() not in _OFF
        try:
            return self.kind(raw)
        except ValueError:
            raise SettingError(
                f"{self.name}={raw!r} is not {_KIND_NAMES.get(self.kind, self.kind.__name__)}"
            ) from None


# The service
API_KEY = Setting(
    "MIXPEEK_API_KEY", "the API's Bearer key; read at run time, never written anywhere",
    unset="(required)")
BASE_URL = Setting(
    "MIXPEEK_BASE_URL", "the API root; plain http to a host that is not local logs a warning",
    default="https://api.mixpeek.com")
PAGING = Setting(
    "MIXPEEK_PAGING", "auto (probe the service, take the first complete strategy), or keyset,"
    " sliced or cursor to force one", default="auto")
FULL_LISTING_EVERY = Setting(
    "MIXPEEK_FULL_LISTING_EVERY", "every this many observations lists every task even where an"
    " incremental one (new and unfinished tasks only) is proven exact", default="7", kind=int)
MAX_REQUESTS_PER_MINUTE = Setting(
    "MIXPEEK_MAX_REQUESTS_PER_MINUTE", "a request budget shared by all paging workers",
    kind=int, unset="unset (no cap)")
ANSWER_DEADLINE_SECONDS = Setting(
    "MIXPEEK_ANSWER_DEADLINE_SECONDS", "the longest one answer, headers and body, may take"
    " before it is retried (on top of the connect and read timeouts); whole seconds",
    default="120", kind=int)

# Where the export lives
EXPORT_DIR = Setting(
    "MIXPEEK_EXPORT_DIR", "a folder or s3://bucket/prefix: the Parquet tree in its parquet/,"
    " DuckDB at warehouse.duckdb beside it (local folders only)", default="./data")
WAREHOUSE = Setting(
    "MIXPEEK_WAREHOUSE", "the DuckDB file, a local path; required when the export dir is on S3",
    unset="`$MIXPEEK_EXPORT_DIR/warehouse.duckdb`")
STAGING_DIR = Setting(
    "MIXPEEK_STAGING_DIR", "the local staging folder of an export to S3 (parts and checkpoint)",
    unset="`<system temp dir>/mixpeek-staging/<hash of the S3 prefix>`")

# S3, read by pyarrow; the exporter reads the endpoint and region to pass them on, and the
# secrets to mask them in messages.
AWS_ACCESS_KEY_ID = Setting("AWS_ACCESS_KEY_ID", "S3 access key id", unset=_AWS_CHAIN)
AWS_SECRET_ACCESS_KEY = Setting("AWS_SECRET_ACCESS_KEY", "S3 secret key, never in a message",
                                unset=_AWS_CHAIN)
AWS_SESSION_TOKEN = Setting("AWS_SESSION_TOKEN", "S3 session token, never in a message",
                            unset=_AWS_CHAIN)
AWS_REGION = Setting("AWS_REGION", "the bucket's region", unset=_AWS_CHAIN)
AWS_DEFAULT_REGION = Setting("AWS_DEFAULT_REGION", "the region when AWS_REGION is unset",
                             unset=_AWS_CHAIN)
AWS_ENDPOINT_URL = Setting("AWS_ENDPOINT_URL", "an S3-compatible store (MinIO, Ceph)",
                           unset=_AWS_CHAIN)
AWS_ENDPOINT_URL_S3 = Setting("AWS_ENDPOINT_URL_S3", "the S3 endpoint, before AWS_ENDPOINT_URL",
                              unset=_AWS_CHAIN)

# When to observe, and watching the observations
SCHEDULE_CRON = Setting(
    "MIXPEEK_SCHEDULE_CRON", "when nightly_export_schedule observes (cron, UTC); `0 * * * *`"
    " for hourly (read when the code location loads)", default="0 2 * * *")
ALERT_WEBHOOK_URL = Setting(
    "MIXPEEK_ALERT_WEBHOOK_URL", "a Slack-compatible webhook a failed run posts to")
WEBSERVER_URL = Setting(
    "DAGSTER_WEBSERVER_URL", "the Dagster UI's address, for a link to the failed run in alerts")
FRESHNESS_HOURS = Setting(
    "MIXPEEK_FRESHNESS_HOURS", "the snapshot's FreshnessPolicy fails when the latest"
    " observation is older than this many hours, Unknown before the first (read when the code"
    " location loads)", default="26", kind=float)

# The process
DAGSTER_HOME = Setting(
    "DAGSTER_HOME", "Dagster's instance folder: run history, schedules, sensors",
    unset="unset (a temporary instance; `make demo`: `./.dagster_home`)")
DEBUG = Setting(
    "MIXPEEK_DEBUG", "`python -m pipelines.run` prints a failed run's whole error, as --debug",
    kind=bool, unset="unset (off)")
ARROW_MEMORY_POOL = Setting(
    "ARROW_DEFAULT_MEMORY_POOL", "Arrow's allocator, read by pyarrow when it loads; the Dagster"
    " code location sets it to system unless it is set (mixpeek_tasks/process.py)",
    default="system")

VARIABLES: tuple[Setting, ...] = tuple(
    value for value in list(globals().values()) if isinstance(value, Setting))
