"""The service's vocabulary as the emulator serves it: the statuses and task types of the
official SDK (mixpeek 1.3.783). The emulator keeps its own copy, checked against the SDK in
its tests, so it never shares an assumption with the client it tests."""

STATUSES = frozenset(
    "PENDING QUEUED IN_PROGRESS PROCESSING COMPLETED COMPLETED_WITH_ERRORS FAILED CANCELED"
    " INTERRUPTED UNKNOWN SKIPPED DRAFT ACTIVE ARCHIVED SUSPENDED DEACTIVATED".split())
# The record's timestamps: the service sorts and filters by them; the SDK's model declares neither.
TIMESTAMP_FIELDS = ("created_at", "updated_at")
IN_FLIGHT = frozenset({"PENDING", "QUEUED", "IN_PROGRESS", "PROCESSING"})
TASK_TYPES = frozenset("""
    api_namespaces_create api_namespaces_delete api_namespaces_snapshot_create
    api_namespaces_snapshot_restore api_namespaces_migrations_run api_buckets_objects_create
    api_buckets_delete api_buckets_batches_process api_buckets_batches_submit
    api_buckets_uploads_create api_buckets_uploads_confirm api_buckets_uploads_batch_confirm
    api_collections_documents_create api_collections_documents_bulk_update
    api_collections_documents_bulk_delete api_collections_reembed
    api_collections_extraction_artifacts api_taxonomies_create api_taxonomies_execute
    api_taxonomies_materialize api_evaluations_run api_evaluations_dataset_create
    api_retrievers_publish api_manifest_apply api_retrievers_execute api_collections_export
    api_collections_trigger engine_feature_extractor_run engine_inference_run
    engine_object_processing engine_cluster_build thumbnail video_segment audio_segment
    converted_video materialize plugin_custom model_custom
""".split())
