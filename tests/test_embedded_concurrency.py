"""The embedded default (SQLite file, development server) holds a room of annotators at once.

A real `manage.py runserver` on a real SQLite file, set up as a new user would have it:
no DATABASE_URL, the database in the var folder. Several annotators, two clients each,
rate through the API at the same moment; no request may be refused for a locked
database, and every rating is stored once.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ANNOTATORS = 6
CLIENTS_PER_ANNOTATOR = 2
RATINGS_PER_CLIENT = 3

# Run by `manage.py shell`: a campaign open for rating, each annotator with their clips.
SETUP = f"""
import json
from rest_framework.authtoken.models import Token
from tests.factories import AssignmentFactory, CampaignFactory, ClipFactory, UserFactory

campaign = CampaignFactory()
clips = [ClipFactory(submission__team__campaign=campaign) for _ in range(
    {CLIENTS_PER_ANNOTATOR * RATINGS_PER_CLIENT})]
people = []
for number in range({ANNOTATORS}):
    user = UserFactory()
    ids = [AssignmentFactory(annotator=user, clip=clip).pk for clip in clips]
    people.append({{"token": Token.objects.create(user=user).key, "assignments": ids}})
print(json.dumps(people))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _request(url: str, *, token: str, body: dict | None = None, key: str = "") -> tuple[int, str]:
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    request = urllib.request.Request(
        url, data=json.dumps(body or {}).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def embedded_server(tmp_path):
    """`manage.py runserver` with the embedded defaults, on a fresh SQLite file."""
    drop = {"DATABASE_URL", "DEBUG", "CELERY_BROKER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {key: value for key, value in os.environ.items() if key not in drop}
    env |= {
        "REFSCORE_VAR_DIR": str(tmp_path / "var"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "LOG_LEVEL": "CRITICAL",
    }
    _manage("migrate", "--noinput", "-v0", env=env)
    people = json.loads(_manage("shell", "-c", SETUP, env=env).strip().splitlines()[-1])
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, "runserver exited"
            try:
                urllib.request.urlopen(f"{base}/accounts/login/", timeout=2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "runserver did not answer"
                time.sleep(0.2)
        yield base, people, tmp_path / "var" / "refscore.sqlite3"
    finally:
        server.terminate()
        server.wait(20)


def test_annotators_rating_at_once_are_never_refused(embedded_server):
    base, people, database = embedded_server
    start = threading.Barrier(ANNOTATORS * CLIENTS_PER_ANNOTATOR)
    answers: list[tuple[int, int, str]] = []  # (assignment, status, body)
    lock = threading.Lock()

    def client(person: dict, number: int) -> None:
        mine = person["assignments"][number::CLIENTS_PER_ANNOTATOR]
        start.wait(60)
        for assignment in mine:
            # "Next" writes too (it starts a clip); then the rating, as an annotator's tab does.
            status, body = _request(f"{base}/api/me/next/", token=person["token"])
            with lock:
                answers.append((0, status, body))
            status, body = _request(
                f"{base}/api/me/assignments/{assignment}/rating/",
                token=person["token"],
                body={"score": 2, "watched_reference": 1.0, "watched_generated": 1.0},
                key=f"key-{assignment}",
            )
            with lock:
                answers.append((assignment, status, body))

    threads = [
        threading.Thread(target=client, args=(person, number))
        for person in people
        for number in range(CLIENTS_PER_ANNOTATOR)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    refused = [(status, body) for _, status, body in answers if status >= 500]
    assert refused == []
    ratings = [(assignment, status) for assignment, status, _ in answers if assignment]
    assert len(ratings) == ANNOTATORS * CLIENTS_PER_ANNOTATOR * RATINGS_PER_CLIENT
    assert {status for _, status in ratings} == {201}
    # Read back from the file itself: each rating stored once, as its first revision.
    import sqlite3

    with sqlite3.connect(database) as db:
        stored = db.execute(
            "SELECT assignment_id, revision FROM annotate_rating ORDER BY assignment_id"
        ).fetchall()
        revisions = db.execute("SELECT count(*) FROM annotate_ratingrevision").fetchone()[0]
    assert stored == sorted((assignment, 1) for assignment, _ in ratings)
    assert revisions == len(ratings)
