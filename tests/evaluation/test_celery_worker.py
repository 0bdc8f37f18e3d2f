"""Judge runs through a real broker and a real Celery worker process, including a worker killed mid-run.

Needs PostgreSQL shared by the test process and the worker, and a broker:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/refscore \
    REFSCORE_TEST_BROKER_URL=redis://127.0.0.1:6379/15 \
    .venv/bin/pytest tests/evaluation/test_celery_worker.py --create-db
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from django.db import connection

from annotate.models import Clip
from evaluation.judges import Judge, JudgeVerdict, Pair, rubric_tree
from evaluation.models import JudgeRun, Verdict

BROKER_URL = os.environ.get("REFSCORE_TEST_BROKER_URL", "")
REPO_ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 180.0

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(
        not BROKER_URL,
        reason="REFSCORE_TEST_BROKER_URL is not set (e.g. redis://127.0.0.1:6379/15)",
    ),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the worker process must share the test database: set DATABASE_URL to PostgreSQL",
    ),
]


class SlowJudge(Judge):
    """A real backend that takes its time: logs each pair as it starts it, then compares file sizes."""

    def __init__(self, *, name: str = "slow", seconds_per_pair: float = 0.5, log_path: str = ""):
        super().__init__(name=name, options={})
        self.seconds_per_pair = seconds_per_pair
        self.log_path = log_path

    def judge(self, pairs: Sequence[Pair], *, progress=None) -> list[JudgeVerdict]:
        verdicts = []
        for pair in pairs:
            if self.log_path:
                with open(self.log_path, "a") as log:
                    log.write(f"{os.getpid()} {pair.pair_id}\n")
            time.sleep(self.seconds_per_pair)
            ratio = pair.generated.stat().st_size / max(pair.reference.stat().st_size, 1)
            similar = 1.0 if 0.5 <= ratio <= 2.0 else 0.0
            tree = rubric_tree(final_state=similar, clean=similar, motion=similar)
            verdicts.append(
                JudgeVerdict(
                    pair_id=pair.pair_id,
                    score=tree.score,
                    expected_score=tree.expected_score,
                    final_state=similar,
                    clean=similar,
                    motion=similar,
                    confidence=tree.confidence,
                    features={"size_ratio": ratio},
                )
            )
            if progress is not None:
                progress(1)
        return verdicts


@pytest.fixture
def shared_database():
    settings_dict = connection.settings_dict
    return (
        f"postgres://{settings_dict['USER']}:{settings_dict.get('PASSWORD') or ''}@"
        f"{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )


@pytest.fixture
def worker_env(shared_database, settings, tmp_path):
    """Environment of the worker and of the command that launches runs."""
    import redis

    redis.Redis.from_url(BROKER_URL).flushdb()  # no message left over from an earlier session
    settings_dir = tmp_path / "worker_settings"
    settings_dir.mkdir()
    # Only the broker's redelivery timing differs from the real settings: a message
    # held by a dead worker comes back after seconds instead of the default hour.
    (settings_dir / "judge_worker_settings.py").write_text(
        "from config.settings import *  # noqa: F403\n"
        "CELERY_BROKER_TRANSPORT_OPTIONS = {'visibility_timeout': 6, "
        "'unacked_restore_interval': 1, 'unacked_restore_throttle': 1}\n"
    )
    log_path = tmp_path / "judged.log"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(settings_dir)]),
        "DJANGO_SETTINGS_MODULE": "judge_worker_settings",
        "DATABASE_URL": shared_database,
        "CELERY_BROKER_URL": BROKER_URL,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "JUDGES_EXTRA": json.dumps(
            {
                "slow": {
                    "BACKEND": f"{__name__}.SlowJudge",
                    "OPTIONS": {"seconds_per_pair": 0.4, "log_path": str(log_path)},
                }
            }
        ),
    }
    env.pop("REFSCORE_TEST_BROKER_URL", None)
    return {"env": env, "log": log_path, "dir": tmp_path}


class Workers:
    """Starts real `celery worker` processes and kills them (each in its own process group)."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env = env
        self.folder = folder
        self.processes: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        log = self.folder / f"worker-{len(self.processes)}.log"
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                "judge,default",
                "-c",
                "1",
                "-P",
                "prefork",
                "--prefetch-multiplier",
                "1",
                "-n",
                f"test-judge-{uuid.uuid4().hex[:8]}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "INFO",
            ],  # fmt: skip
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        wait_for(lambda: "ready." in log.read_text(), what=f"worker ready ({log})")
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL the worker and its pool processes at once: no warm shutdown, no ack."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.folder.glob("worker-*.log")))


@pytest.fixture
def workers(demo_campaign, worker_env):
    # Requested after demo_campaign, so workers stop before the database is flushed.
    pool = Workers(worker_env["env"], worker_env["dir"])
    yield pool
    pool.stop_all()


def wait_for(condition: Callable[[], bool], *, what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def launch(campaign, env: dict[str, str], *, chunk_size: int) -> JudgeRun:
    """Launch a run the way an operator does, from a separate process talking to the broker."""
    before = set(JudgeRun.objects.values_list("pk", flat=True))
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "judge_run",
            campaign.slug,
            "--judge",
            "slow",
            "--chunk-size",
            str(chunk_size),
        ],  # fmt: skip
        cwd=REPO_ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    (run,) = JudgeRun.objects.exclude(pk__in=before)
    return run


def judged_log(path: Path) -> list[tuple[int, str]]:
    if not path.exists():
        return []
    return [
        (int(pid), token)
        for pid, token in (line.split() for line in path.read_text().split("\n") if line)
    ]


def assert_one_verdict_per_clip(run: JudgeRun) -> None:
    run.refresh_from_db()
    clip_ids = list(Verdict.objects.filter(run=run).values_list("clip_id", flat=True))
    assert run.status == JudgeRun.Status.DONE, (run.status, run.error)
    assert len(clip_ids) == len(set(clip_ids)) == run.total == run.done
    assert set(clip_ids) == set(run.clip_ids)


def test_a_worker_judges_a_run_end_to_end(demo_campaign, workers, worker_env):
    workers.start()
    run = launch(demo_campaign, worker_env["env"], chunk_size=4)

    wait_for(lambda: JudgeRun.objects.get(pk=run.pk).status == "done", what="the run to finish")

    assert_one_verdict_per_clip(run)
    tokens = {
        str(t) for t in Clip.objects.filter(pk__in=run.clip_ids).values_list("token", flat=True)
    }
    logged = [token for _, token in judged_log(worker_env["log"])]
    assert sorted(logged) == sorted(tokens)  # each pair judged exactly once
    assert "evaluation.tasks.judge_run_chunk" in workers.logs()


def test_a_chunk_lost_with_a_killed_worker_is_redone_by_the_next(
    demo_campaign, workers, worker_env
):
    first = workers.start()
    run = launch(demo_campaign, worker_env["env"], chunk_size=3)
    log = worker_env["log"]

    def mid_chunk() -> bool:
        # At least one chunk stored and the worker busy inside the next one.
        stored = Verdict.objects.filter(run=run).count()
        return 3 <= stored < run.total - 3 and len(judged_log(log)) > stored

    wait_for(mid_chunk, what="the worker to be in the middle of a chunk")
    workers.kill(first)
    started_before_kill = judged_log(log)
    stored_before_kill = Verdict.objects.filter(run=run).count()
    time.sleep(1.0)
    assert Verdict.objects.filter(run=run).count() == stored_before_kill
    assert JudgeRun.objects.get(pk=run.pk).status == JudgeRun.Status.RUNNING

    workers.start()
    wait_for(lambda: JudgeRun.objects.get(pk=run.pk).status == "done", what="the run to finish")

    assert_one_verdict_per_clip(run)
    lost = [token for _, token in started_before_kill][stored_before_kill:]
    assert lost, "the worker was killed while judging a chunk"
    judged = Counter(token for _, token in judged_log(log))
    # The pairs of the lost chunk were judged again by the new worker; nothing else twice.
    assert {token for token, count in judged.items() if count > 1} == set(lost)
    pids = {pid for pid, _ in judged_log(log)}
    assert len(pids) >= 2
