"""Load test: 100 annotators rating at once against gunicorn, with a trivial view as baseline.

Headless and on loopback only. Builds a throw-away database (PostgreSQL
``bench_load_<pid>`` on 127.0.0.1:5432 when it answers, a SQLite file otherwise),
migrates it, builds a small demo campaign whose every annotator has a queue, starts
gunicorn with production settings (DEBUG=false), and runs locust twice with the same
number of users and the same think time:

- annotators (bench/load/locustfile.py ``AnnotatorUser``): log in, then loop over the
  queue page, the next rating page, two HTTP Range requests on each of the two videos
  (first bytes and a middle range) and a rating through the API (session + CSRF);
- baseline (``BaselineUser``): the login page, anonymous GET, as many requests a loop.

Prints p50/p95/p99, throughput and errors of each, and their ratio. Stops gunicorn and
drops the database at the end.

Run: .venv/bin/python bench/bench_load.py [--users 100] [--seconds 45] [--workers 2 --threads 4]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
POSTGRES = "postgresql://postgres@127.0.0.1:5432"


def _postgres_database(name: str) -> str | None:
    """Create the database and return its URL, or None when PostgreSQL does not answer."""
    try:
        import psycopg

        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as error:  # any failure: fall back to SQLite, and say why
        print(f"PostgreSQL not reachable at 127.0.0.1:5432 ({error}); using a SQLite file")
        return None
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def _drop_postgres_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, *, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer {url} within {timeout:.0f} s")


def build_campaign(*, users: int, workdir: Path) -> None:
    """In a subprocess with the bench environment: the demo campaign, every annotator queued."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.core.management import call_command
    from django.db.models import Count

    from annotate.models import Assignment
    from annotate.services.assignments import assignment_plan_apply
    from demo.campaign import demo_campaign_create
    from demo.render import DEFAULT_TEAMS

    call_command("migrate", verbosity=0, interactive=False)
    result = demo_campaign_create(
        workdir=workdir,
        seed=7,
        teams=DEFAULT_TEAMS[:3],
        n_tasks=2,
        episodes_per_task=3,
        seconds=2.0,
        n_annotators=users,
    )
    # Every annotator on every cell (the small demo has few clips): each gets a queue.
    campaign = result.campaign
    campaign.raters_per_cell = users
    campaign.save(update_fields=["raters_per_cell"])
    assignment_plan_apply(campaign=campaign)
    per_annotator = sorted(
        Assignment.objects.filter(campaign=campaign)
        .values("annotator")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )
    print(
        f"campaign: {sum(per_annotator)} assignments for {len(per_annotator)} annotators "
        f"({per_annotator[0]}-{per_annotator[-1]} each)",
        flush=True,
    )


def run_locust(*, user_class: str, users: int, seconds: float, host: str, env: dict) -> dict:
    out = Path(env["BENCH_LOAD_TMP"]) / f"{user_class}.json"
    command = [
        str(VENV_BIN / "locust"),
        "-f",
        str(ROOT / "bench/load/locustfile.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        "20",
        "--run-time",
        f"{int(seconds + 240)}s",  # a ceiling: the locustfile stops after the measured window
        "--host",
        host,
        "--only-summary",
        "--loglevel",
        "ERROR",
        user_class,
    ]
    locust_env = {
        **env,
        "BENCH_LOAD_OUT": str(out),
        "BENCH_LOAD_USERS": str(users),
        "BENCH_LOAD_MEASURE_S": str(seconds),
    }
    subprocess.run(command, env=locust_env, cwd=ROOT, check=False, stdout=subprocess.DEVNULL)
    if not out.exists():
        raise SystemExit(f"locust wrote no results for {user_class}")
    return json.loads(out.read_text())


def _row(label: str, figures: dict) -> str:
    rate = f"{figures['rps']:.1f}" if "rps" in figures else ""  # the totals only
    return (
        f"| {label} | {figures['requests']:,} | {rate} | "
        f"{figures['p50_ms']:.0f} | {figures['p95_ms']:.0f} | {figures['p99_ms']:.0f} | "
        f"{figures['failures']} |"
    )


def report(*, load: dict, baseline: dict, database: str, args: argparse.Namespace) -> None:
    print()
    print(
        f"Machine: nproc={os.cpu_count()}, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}; database {database}; gunicorn "
        f"{args.workers} workers x {args.threads} threads; {args.users} users, "
        f"think time {args.wait} s, {args.seconds:.0f} s measured each"
    )
    print()
    print("| run | requests | req/s | p50 (ms) | p95 (ms) | p99 (ms) | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(_row("annotators, all requests", load["total"]))
    for name, figures in sorted(load["entries"].items()):
        if figures["requests"]:
            print(_row(f"  {name}", figures))
    print(_row("baseline: GET /accounts/login/", baseline["total"]))
    ratio = {
        key: load["total"][key] / max(baseline["total"][key], 1e-9)
        for key in ("p50_ms", "p95_ms", "p99_ms", "rps")
    }
    print()
    print(
        "annotators / baseline: "
        + ", ".join(f"{key.removesuffix('_ms')} x{value:.2f}" for key, value in ratio.items())
    )
    login = load.get("login") or {}
    if login:
        print(
            f"login (POST, before the measured window, {login['requests']} logins at once): "
            f"p50 {login['p50_ms']:.0f} ms, p95 {login['p95_ms']:.0f} ms, "
            f"errors {login['failures']}"
        )
    for run, result in (("annotators", load), ("baseline", baseline)):
        for error in result["errors"]:
            print(f"error ({run}): {error['count']} x {error['name']}: {error['error']}")
    met = load["total"]["p95_ms"] < 150 and load["total"]["failures"] == 0
    print(f"target (p95 < 150 ms, no errors): {'met' if met else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=45, help="measured window per run")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2 cores)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--wait", default="10,30", help="think time between loops, min,max s")
    parser.add_argument("--build-only", metavar="WORKDIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_only:
        build_campaign(users=args.users, workdir=Path(args.build_only))
        return

    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
    db_name = f"bench_load_{os.getpid()}"
    database_url = _postgres_database(db_name)
    database = "PostgreSQL" if database_url else "SQLite"
    database_url = database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "REFSCORE_VAR_DIR": str(tmp / "var"),
        "MEDIA_ROOT": str(tmp / "media"),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "LOG_LEVEL": "ERROR",
        "BENCH_LOAD_TMP": str(tmp),
        "BENCH_LOAD_WAIT": args.wait,
        "PYTHONPATH": str(ROOT),
    }
    gunicorn = None
    try:
        print(f"building the demo campaign ({database}, {args.users} annotators)", flush=True)
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--users",
                str(args.users),
                "--build-only",
                str(tmp / "footage"),
            ],
            env=env,
            cwd=ROOT,
            check=True,
        )
        print(f"setup done in {time.monotonic() - started:.0f} s; starting gunicorn", flush=True)
        gunicorn = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--worker-class",
                "gthread",
                "--threads",
                str(args.threads),
                # Longer than the think time: otherwise the server closes idle keep-alive
                # connections just as a client reuses them (RemoteDisconnected errors).
                "--keep-alive",
                "10",
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=ROOT,
        )
        host = f"http://127.0.0.1:{port}"
        _wait_until_up(f"{host}/accounts/login/", process=gunicorn)
        common = dict(users=args.users, seconds=args.seconds, host=host, env=env)
        print("running the annotators' load", flush=True)
        load = run_locust(user_class="AnnotatorUser", **common)
        print("running the baseline", flush=True)
        baseline = run_locust(user_class="BaselineUser", **common)
        report(load=load, baseline=baseline, database=database, args=args)
        print(f"total time {time.monotonic() - started:.0f} s")
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            try:
                gunicorn.wait(timeout=20)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
        if database == "PostgreSQL":
            _drop_postgres_database(db_name)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
