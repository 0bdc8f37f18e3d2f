"""Settings as each kind of process gets them: debug pages only under the development server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
# Only what a new user's shell would have: no DEBUG, no test-suite variables.
DROPPED = {"DEBUG", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE"}

DEBUG_OF = """
import sys
sys.argv = {argv!r}
import django
from django.conf import settings
django.setup()
print(settings.DEBUG, settings.DATABASES["default"]["OPTIONS"].get("transaction_mode"))
"""


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in DROPPED}
    return env | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "REFSCORE_VAR_DIR": str(tmp_path / "var"),
        **extra,
    }


def _settings_seen_by(argv: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-c", DEBUG_OF.format(argv=argv)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("argv", "debug"),
    [
        (["manage.py", "runserver", "127.0.0.1:8000"], "True"),
        (["gunicorn", "config.wsgi", "-w", "4"], "False"),
        (["celery", "-A", "config", "worker"], "False"),
        (["manage.py", "migrate"], "False"),
    ],
)
def test_debug_is_on_by_default_only_under_the_development_server(tmp_path, argv, debug):
    assert _settings_seen_by(argv, _env(tmp_path)) == f"{debug} IMMEDIATE"


def test_debug_set_in_the_environment_wins(tmp_path):
    gunicorn = ["gunicorn", "config.wsgi"]
    assert _settings_seen_by(gunicorn, _env(tmp_path, DEBUG="true")).startswith("True")
    runserver = ["manage.py", "runserver"]
    assert _settings_seen_by(runserver, _env(tmp_path, DEBUG="false")).startswith("False")


def _get(url: str, **headers: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_gunicorn_with_the_defaults_shows_no_debug_page(tmp_path):
    """Errors anyone can cause (a wrong Host, a wrong URL) show no traceback, settings or routes."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    # As behind the TLS proxy production puts in front (otherwise: redirected to HTTPS).
    https = {"X-Forwarded-Proto": "https"}
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, "gunicorn exited"
            try:
                not_found = _get(f"{base}/no-such-page/", **https)
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.3)
        answers = [
            not_found,
            _get(f"{base}/accounts/login/", Host="not-allowed.example", **https),
        ]
    finally:
        server.terminate()
        server.wait(20)
    assert [status for status, _ in answers] == [404, 400]
    for _, body in answers:
        for debug_only in (b"Traceback", b"DEBUG = True", b"DisallowedHost", b"URLconf"):
            assert debug_only not in body
