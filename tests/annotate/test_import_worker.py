"""Import jobs through a real broker and a real Celery worker, including a worker killed mid-import.

Needs PostgreSQL shared by the test process and the worker, and a broker:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/refscore \
    REFSCORE_TEST_BROKER_URL=redis://127.0.0.1:6379/2 \
    .venv/bin/pytest tests/annotate/test_import_worker.py --create-db
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from annotate.models import ImportJob, Submission
from annotate.notice_text import text
from annotate.services import reference_import
from tests.evaluation import test_celery_worker
from tests.evaluation.test_celery_worker import (  # noqa: F401 - fixtures
    BROKER_URL,
    REPO_ROOT,
    Workers,
    shared_database,
    wait_for,
    worker_env,
)
from tests.videos import write_reference_tree, write_video

# Committed rows: the worker is another process.
pytestmark = [*test_celery_worker.pytestmark, pytest.mark.django_db(transaction=True)]

N_EPISODES = 40


@pytest.fixture
def workers(campaign, worker_env):  # noqa: F811
    # Requested after campaign, so workers stop before the database is flushed.
    env = {**worker_env["env"], "REFSCORE_VAR_DIR": str(worker_env["dir"] / "var")}
    pool = Workers(env, worker_env["dir"])
    yield pool
    pool.stop_all()


@pytest.fixture
def upload(campaign, workers, tmp_path) -> Path:
    """References for every episode and a team's zip of clips, in the worker's uploads folder."""
    episodes = tuple(range(N_EPISODES))
    write_reference_tree(tmp_path / "ref", "single", episodes=episodes)
    reference_import(campaign=campaign, path=tmp_path / "ref")
    folder = Path(workers.env["REFSCORE_VAR_DIR"]) / "uploads"
    folder.mkdir(parents=True)
    archive = folder / "clips.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for episode in episodes:
            # Long enough that probing them all takes the worker a few seconds.
            clip = write_video(
                tmp_path / f"c{episode}.mp4", frames=240, width=144, height=48, seed=episode
            )
            out.write(clip, f"test/task1/episode_{episode}.mp4")
    return archive


def queue(campaign, archive: Path, env: dict[str, str]) -> ImportJob:
    """Queue an import the way the page does, from a separate process talking to the broker."""
    code = (
        "from pathlib import Path\n"
        "from django.db import transaction\n"
        "from annotate.models import Campaign\n"
        "from annotate.services import import_job_create\n"
        "with transaction.atomic():\n"
        f"    job = import_job_create(campaign=Campaign.objects.get(slug={campaign.slug!r}),"
        f" kind='submission', team_name='aurora', upload=Path({str(archive)!r}))\n"
        "print(job.pk)\n"
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return ImportJob.objects.get(pk=int(done.stdout.split()[-1]))


def status(job: ImportJob) -> str:
    return ImportJob.objects.get(pk=job.pk).status


def test_a_worker_imports_a_zip_and_removes_it(campaign, workers, upload):
    workers.start()
    job = queue(campaign, upload, workers.env)

    wait_for(lambda: status(job) in ("done", "failed"), what="the import to end")

    job.refresh_from_db()
    assert (job.status, len(job.report["accepted"])) == ("done", N_EPISODES), job.error
    assert Submission.objects.get().clips.count() == N_EPISODES
    assert not upload.exists()


def test_an_import_whose_worker_is_killed_ends_failed_when_redelivered(campaign, workers, upload):
    first = workers.start()
    job = queue(campaign, upload, workers.env)
    wait_for(
        lambda: ImportJob.objects.filter(pk=job.pk, status="running", done__gte=1).exists(),
        what="the import to be under way",
    )
    workers.kill(first)
    assert status(job) == "running"  # the dead worker could not say anything

    workers.start()  # the broker hands the unacknowledged message to the next worker

    wait_for(lambda: status(job) != "running", what="the redelivered import to end")
    job.refresh_from_db()
    assert job.status == "failed" and job.finished_at is not None
    assert text(job.error) == "the worker running this import stopped; nothing was written"
    assert not Submission.objects.exists()
    assert not upload.exists()
