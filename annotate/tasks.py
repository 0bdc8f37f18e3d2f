from __future__ import annotations

from celery import shared_task

from annotate import services


@shared_task(acks_late=True, time_limit=3600, soft_time_limit=3500, max_retries=2)
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
