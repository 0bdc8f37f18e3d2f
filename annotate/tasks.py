from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from annotate import services


# A broken video fails for good and the service records why (the asset ends failed): no
# retry would help. What a retry does help with is the database going away for a moment
# (a restart, a failover) before the outcome is saved; remaking the copy is idempotent (it
# is written beside its final name and renamed into place), so the task runs again, up to
# twice, a few seconds apart.
@shared_task(
    acks_late=True,
    time_limit=3600,
    soft_time_limit=3500,
    autoretry_for=(OperationalError, InterfaceError),
    max_retries=2,
    retry_backoff=5,
    retry_jitter=False,
)
def media_asset_prepare(asset_id: int) -> str:
    return services.media_asset_prepare(asset_id=asset_id).status


# The soft limit comes first so that the job records its failure; acks_late with
# reject_on_worker_lost redelivers a job whose worker died, and the redelivery ends it.
@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=6 * 3600,
    soft_time_limit=6 * 3600 - 120,
)
def import_job_run(job_id: int) -> str:
    return services.import_job_run(job_id=job_id).status
