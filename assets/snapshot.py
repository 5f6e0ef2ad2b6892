"""An observation: every task the API lists now, flattened into Parquet, with its checks.

No partitions: the service lists tasks as they are now, so each materialization is one new
observation, filed under the moment it ran (docs/guide.md, "Observations"); nothing in the UI, a
backfill or a re-run can file a listing under a date it did not see.
"""

from datetime import timedelta

import pyarrow.compute as pc
import pyarrow.parquet as pq
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    Config,
    Failure,
    FreshnessPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
)
from pydantic import Field

from assets import GROUP, OWNERS
from assets.catalog import ROW_COUNT, URI, uri
from mixpeek_tasks import settings
from mixpeek_tasks.api.errors import MixpeekError
from mixpeek_tasks.snapshot.coverage import Coverage
from mixpeek_tasks.snapshot.export import export_snapshot
from mixpeek_tasks.snapshot.increment import Increment, IncrementDoubt
from mixpeek_tasks.snapshot.observation import Observation
from mixpeek_tasks.snapshot.reconcile import SnapshotIncomplete, verdict_for
from mixpeek_tasks.snapshot.tree import SnapshotTree
from pipelines.resources import ExportStorage, MixpeekResource


def freshness_policy(*, hours: float) -> FreshnessPolicy:
    """A silently disabled schedule, or an observation that never ran, shows red in the
    snapshot's health: one must have been made within `hours` (MIXPEEK_FRESHNESS_HOURS; an
    hourly schedule wants 2). Dagster's daemon evaluates the policy, launching nothing; before
    the first observation it is Unknown, not Failed: a fresh instance is calm until asked."""
    return FreshnessPolicy.time_window(fail_window=timedelta(hours=hours))


# The metadata entry that names the observation a materialization made.
OBSERVATION = "observation"


class SnapshotConfig(Config):
    max_quarantine_share: float = Field(
        default=0.01, ge=0, le=1,
        description="the quarantine check fails above this share of records quarantined")
    full: bool = Field(
        default=False, description="list every task, even where an incremental observation"
                                   " (new and unfinished tasks only) would be exact (--full)")


@asset(
    group_name=GROUP,
    owners=OWNERS,
    kinds={"parquet"},
    # The window is read once, when the code location loads.
    freshness_policy=freshness_policy(hours=settings.FRESHNESS_HOURS.read()),
    check_specs=[
        AssetCheckSpec("quarantine_share", asset="task_snapshot",
                       description="share of records kept in task_quarantine because they could"
                                   " not be rows stays small"),
    ],
)
def task_snapshot(context: AssetExecutionContext, config: SnapshotConfig,
                  mixpeek: MixpeekResource, storage: ExportStorage) -> MaterializeResult:
    """Every task the API lists at run time, flattened: a new observation in the Parquet tree
    (`observation=<id>`, its id the moment the run started)."""
    # Every way the export can fail for the user's setup or the service's answers is a
    # MixpeekError with a one-line message: the run's failure leads with it, not a traceback.
    try:
        for note in mixpeek.preflight():
            context.log.warning(note)
        storage.preflight()
        with mixpeek.client() as client, client.reporting_slow_requests(context.log.info):
            result = export_snapshot(client, storage.tree(), concurrency=mixpeek.concurrency,
                                     paging=mixpeek.paging, progress=context.log.info,
                                     full=config.full, full_every=mixpeek.full_listing_every)
    except MixpeekError as error:
        raise Failure(description=str(error)) from None
    observation = result.observation
    context.log.info(f"{result.rows:,} tasks in {result.pages} pages, {result.seconds:.1f}s:"
                     f" observation {observation.id}")
    coverage = result.coverage
    records = result.rows + result.quarantined
    share = result.quarantined / records if records else 0.0
    return MaterializeResult(
        metadata={
            OBSERVATION: observation.id,
            "observed_on": observation.observed_on.isoformat(),
            "listing_started_at": observation.listing_started_at.isoformat(),
            "listing_finished_at": observation.listing_finished_at.isoformat(),
            ROW_COUNT: result.rows,
            "quarantined": result.quarantined,
            "pages": result.pages,
            "requests": result.requests,
            "bytes_received": result.bytes_received,
            "duration_seconds": round(result.seconds, 3),
            "throttled_seconds": round(result.throttled_seconds, 3),
            URI: uri(result.tasks_path),
            "paging_strategy": coverage.strategy,
            "incremental_from": coverage.increment and coverage.increment["base_observation"],
            "coverage": MetadataValue.json(coverage.as_metadata()),
            "probe": MetadataValue.json(coverage.probe),
        },
        check_results=[
            AssetCheckResult(
                check_name="quarantine_share",
                passed=share <= config.max_quarantine_share,
                severity=AssetCheckSeverity.ERROR,
                metadata={"quarantined": result.quarantined, "share": round(share, 6),
                          "max_share": config.max_quarantine_share},
            ),
        ],
    )


def checked_observation(context: AssetCheckExecutionContext,
                        tree: SnapshotTree) -> Observation | None:
    """The observation a check of task_snapshot judges: the one its latest materialization
    made (in a run, the one just made), else the newest in the tree; None when there is
    none."""
    event = context.instance.get_latest_materialization_event(task_snapshot.key)
    made = event and event.asset_materialization.metadata.get(OBSERVATION)
    return (made is not None and tree.observation(made.value)) or tree.newest()


NOTHING_OBSERVED = AssetCheckResult(
    passed=True, description="nothing observed yet: there is no listing to check")


@asset_check(asset=task_snapshot, blocking=True,
             description="every task appears once in the observation")
def task_ids_unique(context: AssetCheckExecutionContext,
                    storage: ExportStorage) -> AssetCheckResult:
    tree = storage.tree()
    observation = checked_observation(context, tree)
    if observation is None:
        return NOTHING_OBSERVED
    with tree.files(observation) as files:
        ids = pq.read_table(files.tasks, columns=["task_id"]).column("task_id")
    distinct = pc.count_distinct(ids).as_py()
    return AssetCheckResult(passed=distinct == len(ids),
                            metadata={OBSERVATION: observation.id, "rows": len(ids),
                                      "distinct_task_ids": distinct})


def _coverage(tree: SnapshotTree, observation: Observation) -> Coverage:
    """The observation's coverage record, which every export publishes with its files."""
    raw = tree.coverage(observation)
    if raw is None:
        raise Failure(description=f"no coverage record for {observation}: it is not published,"
                                  " or not by an export")
    return Coverage.from_json(raw)


@asset_check(asset=task_snapshot, blocking=True,
             description="the observation holds every task the service counted (reconciled"
                         " before publishing; re-judged here from the stored counts)")
def snapshot_complete(context: AssetCheckExecutionContext,
                      storage: ExportStorage) -> AssetCheckResult:
    tree = storage.tree()
    observation = checked_observation(context, tree)
    if observation is None:
        return NOTHING_OBSERVED
    return completeness(_coverage(tree, observation))


def completeness(coverage: Coverage) -> AssetCheckResult:
    """snapshot_complete's verdict on a stored coverage record (an incremental observation's
    by the counts of its increment)."""
    try:
        verdict = (verdict_for(coverage.at_start, coverage.at_end, coverage.content,
                               positional=coverage.positional) if coverage.increment is None
                   else Increment(**coverage.increment).verdict())
    except (SnapshotIncomplete, IncrementDoubt) as incomplete:
        return AssetCheckResult(passed=False, description=str(incomplete),
                                metadata=coverage.as_metadata())
    return AssetCheckResult(passed=True, description=verdict, metadata=coverage.as_metadata())


@asset_check(asset=task_snapshot,
             description="the listing still reaches tasks older than a day when earlier"
                         " observations did (the API may list only its 24-hour Redis window)")
def listing_reaches_old_tasks(context: AssetCheckExecutionContext,
                              storage: ExportStorage) -> AssetCheckResult:
    tree = storage.tree()
    observation = checked_observation(context, tree)
    if observation is None:
        return NOTHING_OBSERVED
    coverage = _coverage(tree, observation)
    if coverage.increment is not None:
        # It lists what changed, not the account: how far listings reach is the full ones'.
        return AssetCheckResult(passed=True, severity=AssetCheckSeverity.WARN, metadata={
            OBSERVATION: observation.id,
            "incremental_from": coverage.increment["base_observation"]})
    oldest = coverage.content.oldest_created_at
    # An earlier observation without a coverage record (a test fixture, a hand-made tree)
    # says nothing about how far listings reached: it is left out, not a failure of this one.
    reached_before = [earlier for earlier in tree.observations()
                      if earlier.id < observation.id
                      and (raw := tree.coverage(earlier)) is not None
                      and _old_tasks_listed(Coverage.from_json(raw))]
    passed = _old_tasks_listed(coverage) or not reached_before
    if not passed:
        context.log.warning(
            f"observation {observation.id} holds no task older than a day (oldest {oldest}), "
            f"while {len(reached_before)} earlier observation(s) listed older ones: the service"
            " may now list only recent tasks")
    return AssetCheckResult(passed=passed, severity=AssetCheckSeverity.WARN,
                            metadata={OBSERVATION: observation.id,
                                      "oldest_created_at": str(oldest),
                                      "earlier_observations_with_older_tasks":
                                          len(reached_before)})


def _old_tasks_listed(coverage: Coverage) -> bool:
    oldest = coverage.content.oldest_created_at
    return oldest is not None and oldest < coverage.cutoff - timedelta(days=1)

