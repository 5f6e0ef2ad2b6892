"""What the Mixpeek API documents about a task: statuses, task types, additional_data keys.

Values outside these enums still flow through the pipeline as plain strings: the API adds new
task types over time and the export must keep them rather than reject them.
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum


class TaskStatus(str, Enum):
    PENDING = "PENDING"
    QUEUED = "QUEUED"
    IN_PROGRESS = "IN_PROGRESS"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    COMPLETED_WITH_ERRORS = "COMPLETED_WITH_ERRORS"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    INTERRUPTED = "INTERRUPTED"
    UNKNOWN = "UNKNOWN"
    SKIPPED = "SKIPPED"
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"
    SUSPENDED = "SUSPENDED"
    DEACTIVATED = "DEACTIVATED"


TERMINAL_STATUSES = frozenset(
    {TaskStatus.COMPLETED, TaskStatus.COMPLETED_WITH_ERRORS, TaskStatus.FAILED, TaskStatus.CANCELED}
)
IN_FLIGHT_STATUSES = frozenset(
    {TaskStatus.PENDING, TaskStatus.QUEUED, TaskStatus.IN_PROGRESS, TaskStatus.PROCESSING}
)

# The SDK's TaskType enum (mixpeek 1.3.783, OpenAPI 0.82).
TASK_TYPES = (
    "api_namespaces_create",
    "api_namespaces_delete",
    "api_namespaces_snapshot_create",
    "api_namespaces_snapshot_restore",
    "api_namespaces_migrations_run",
    "api_buckets_objects_create",
    "api_buckets_delete",
    "api_buckets_batches_process",
    "api_buckets_batches_submit",
    "api_buckets_uploads_create",
    "api_buckets_uploads_confirm",
    "api_buckets_uploads_batch_confirm",
    "api_collections_documents_create",
    "api_collections_documents_bulk_update",
    "api_collections_documents_bulk_delete",
    "api_collections_reembed",
    "api_collections_extraction_artifacts",
    "api_taxonomies_create",
    "api_taxonomies_execute",
    "api_taxonomies_materialize",
    "api_evaluations_run",
    "api_evaluations_dataset_create",
    "api_retrievers_publish",
    "api_manifest_apply",
    "api_retrievers_execute",
    "api_collections_export",
    "api_collections_trigger",
    "engine_feature_extractor_run",
    "engine_inference_run",
    "engine_object_processing",
    "engine_cluster_build",
    "thumbnail",
    "video_segment",
    "audio_segment",
    "converted_video",
    "materialize",
    "plugin_custom",
    "model_custom",
)

# Top-level fields of the SDK's TaskResponse. Anything else a task carries is kept as JSON.
DECLARED_TASK_FIELDS = frozenset(
    {
        "task_id",
        "task_type",
        "status",
        "inputs",
        "outputs",
        "additional_data",
        "error",
        "cancellation",
        "queue_position",
        "estimated_wait_minutes",
    }
)


def api_timestamp(moment: datetime) -> str:
    """A moment as the API writes `created_at` (UTC, milliseconds, `Z`), so that a filter on
    it compares like with like."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
