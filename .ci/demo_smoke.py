#!/usr/bin/env python3
"""The README's first command, on a fresh clone, as a newcomer types it.

Clones this checkout's HEAD into a temporary folder (no var/, nothing made by hand),
runs `make demo HOST=127.0.0.1:<free port>` there with no input, waits for the login
page, logs in as the first annotator of the accounts table the demo printed, opens the
queue and starts rating: the rating page must answer 200 with the player on it, and its
generated clip must stream. Then stops the server with everything it started (as
Ctrl-C would), runs `make demo` again to see it keep the demo and say so, and removes
the clone. Only the standard library.

    python3 .ci/demo_smoke.py [--venv ABSOLUTE_PATH] [--timeout SECONDS]

With --venv the clone uses that (already built) virtual environment instead of
making its own; everything else is the clone's own.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Settings a newcomer has not made: the demo must run on the embedded defaults.
NEWCOMER_UNSETS = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "REFSCORE_VAR_DIR",
    "MEDIA_ROOT",
    "STATIC_ROOT",
    "DJANGO_SETTINGS_MODULE",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Demo:
    """`make demo` in its own process group, its output echoed and kept."""

    def __init__(self, command: list[str], *, cwd: Path, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            line = line.rstrip("\n")
            self.lines.append(line)
            print(f"  | {line}", flush=True)

    def stop(self, grace: float = 20.0, *, strict: bool = True) -> None:
        """SIGINT to the whole group (make, runserver and its reloader), as Ctrl-C would."""
        for sig, wait in ((signal.SIGINT, grace), (signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and self.group_alive():
                time.sleep(0.2)
            if not self.group_alive():
                break
            print(f"demo: still running after {sig.name}", flush=True)
        self._reader.join(timeout=5)
        if self.group_alive():
            raise SystemExit(f"processes of the demo (group {self.process.pid}) are still running")
        if strict and sig != signal.SIGINT:
            raise SystemExit(f"the demo stopped only on {sig.name}, not on Ctrl-C")

    def group_alive(self) -> bool:
        self.process.poll()  # reap make itself: a zombie still counts as a group member
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True


def wait_for_login_page(url: str, demo: Demo, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if demo.process.poll() is not None:
            raise SystemExit(f"make demo exited with {demo.process.returncode} before serving")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(2)
    raise SystemExit(f"no login page at {url} after {timeout:.0f} s")


def printed_accounts(lines: list[str]) -> list[tuple[str, str, str]]:
    """(role, username, password) of each row of the last accounts table printed."""
    starts = [
        i for i, line in enumerate(lines) if line.split()[:3] == ["role", "username", "password"]
    ]
    if not starts:
        raise SystemExit("make demo printed no accounts table")
    rows = []
    for line in lines[starts[-1] + 2 :]:
        cells = line.split()
        if len(cells) < 3:
            break
        rows.append((cells[0], cells[1], cells[2]))
    return rows


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not match:
        raise SystemExit("no CSRF token on the page")
    return match.group(1)


class Browser:
    """Just enough of one: cookies, redirects, forms with their CSRF token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str, headers: dict[str, str] | None = None):
        request = urllib.request.Request(self.base + path, headers=headers or {})
        return self.opener.open(request, timeout=30)

    def post(self, path: str, fields: dict[str, str]):
        data = urllib.parse.urlencode(fields).encode()
        return self.opener.open(self.base + path, data=data, timeout=60)


def rating_page_check(base: str, username: str, password: str) -> str:
    """Log in, open the queue, start rating; return the rating page's path."""
    browser = Browser(base)
    login = browser.get("/accounts/login/").read().decode()
    with browser.post(
        "/accounts/login/",
        {"username": username, "password": password, "csrfmiddlewaretoken": csrf_token(login)},
    ) as response:
        landed = urllib.parse.urlparse(response.geturl()).path
    if landed != "/queue/":
        raise SystemExit(f"logging in as {username} landed on {landed}, not /queue/")

    queue = browser.get("/queue/").read().decode()
    form = re.search(
        r'<form method="post" action="(/rate/next)">(.*?)</form>', queue, flags=re.DOTALL
    )
    if not form:
        raise SystemExit(f"{username}'s queue has no Start button")
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form.group(2)))
    with browser.post(form.group(1), fields) as response:
        status, path = response.status, urllib.parse.urlparse(response.geturl()).path
        page = response.read().decode()
    if status != 200 or not re.fullmatch(r"/rate/[^/]+/", path):
        raise SystemExit(f"starting to rate answered {status} at {path}")
    for player_part in ('id="video-ref"', 'id="video-gen"', 'id="btn-play"'):
        if player_part not in page:
            raise SystemExit(f"the rating page {path} has no {player_part}")
    video = re.search(r'<video id="video-gen"[^>]*?src="([^"]+)"', page, flags=re.DOTALL)
    if not video:
        raise SystemExit("the generated clip has no source")
    with browser.get(video.group(1), headers={"Range": "bytes=0-1023"}) as response:
        if response.status != 206 or len(response.read()) != 1024:
            raise SystemExit(f"the generated clip did not stream: {response.status}")
    return path


def run_demo(make: list[str], *, clone: Path, env: dict[str, str], timeout: float) -> list[str]:
    """Run `make demo` until a printed annotator reaches the rating page; stop it; its output."""
    port = free_port()
    host = f"127.0.0.1:{port}"
    command = [*make, "demo", f"HOST={host}"]
    print(f"demo: {' '.join(command)}", flush=True)
    demo = Demo(command, cwd=clone, env=env)
    try:
        base = f"http://{host}"
        waited = wait_for_login_page(base + "/accounts/login/", demo, timeout)
        annotators = [row for row in printed_accounts(demo.lines) if row[0] == "annotator"]
        if not annotators:
            raise SystemExit("the accounts table names no annotator")
        _, username, password = annotators[0]
        path = rating_page_check(base, username, password)
        print(
            f"demo: served after {waited:.0f} s; {username} (as printed) logged in and "
            f"opened {path} with the player, its clip streaming",
            flush=True,
        )
    except BaseException:
        demo.stop(strict=False)  # stop it all, and report the failure above
        raise
    demo.stop()
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit(f"something still listens on {host}")
    return demo.lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, help="an already built virtual environment")
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds to wait for the server"
    )
    args = parser.parse_args()

    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="refscore-demo-"))
    clone = workdir / "refscore"
    try:
        subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(clone)], check=True)
        if (clone / "var").exists():
            raise SystemExit("the fresh clone has a var/ folder")
        print(f"demo: a fresh clone of {ROOT} in {clone}", flush=True)
        make = ["make"]
        if args.venv:
            venv = args.venv.resolve()
            # -o: this environment is built already; pyproject.toml is newer only by the clone.
            make = ["make", "-o", f"{venv}/.installed", f"VENV={venv}"]
        env = {k: v for k, v in os.environ.items() if k not in NEWCOMER_UNSETS} | {"CI": "true"}

        first = run_demo(make, clone=clone, env=env, timeout=args.timeout)
        if not (clone / "var" / "refscore.sqlite3").is_file():
            raise SystemExit("the demo's database is not in the clone's var/")
        if not any("Demo campaign 'demo' ready" in line for line in first):
            raise SystemExit("the first make demo made no demo campaign")
        first_done = time.monotonic() - started

        # Again, as a newcomer coming back: the demo and its ratings are kept, and it says so.
        again = run_demo(make, clone=clone, env=env, timeout=args.timeout)
        if any("ready in" in line for line in again) or not any(
            "exists, kept with its ratings" in line for line in again
        ):
            raise SystemExit("the second make demo did not keep the demo campaign, or said nothing")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"demo: fresh clone to rating page in {first_done:.0f} s; "
        f"with the second run, {time.monotonic() - started:.0f} s",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
